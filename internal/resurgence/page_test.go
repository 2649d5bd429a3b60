package resurgence

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/canon"
)

// recordedPage reads a page the prober's tests recorded from the
// simulator: its URL and its body.
func recordedPage(t testing.TB, name string) (string, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "probe", "testdata", "pages", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := bytes.Cut(b, []byte("\n\n"))
	url := ""
	sc := bufio.NewScanner(bytes.NewReader(head))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "url: "); ok {
			url = v
		}
	}
	return url, body
}

func TestReadPage(t *testing.T) {
	for _, tc := range []struct {
		page     string
		platform takedown.Platform
		title    string
		desc     string
		posts    bool
		avatar   string
	}{
		{"telegram-present-preview", takedown.PlatformTelegram, "Tesael Relay – Market News", "Bridge quiet sunny continues week bulletin week book city in bread. Sea along follows weather 8.", true, "https://t.me/_media/avatar/84.jpg"},
		{"telegram-present-channel", takedown.PlatformTelegram, "", "", false, "https://t.me/_media/avatar/"},
		{"x-present-account", takedown.PlatformX, "", "", true, "https://x.com/_media/avatar/"},
		{"youtube-present-channel", takedown.PlatformYouTube, "", "", true, "https://www.youtube.com/_media/avatar/"},
	} {
		t.Run(tc.page, func(t *testing.T) {
			url, body := recordedPage(t, tc.page)
			p := ReadPage(url, tc.platform, body)
			if p.Title == "" || (tc.title != "" && p.Title != tc.title) {
				t.Errorf("title %q, want %q", p.Title, tc.title)
			}
			if p.Description == "" || (tc.desc != "" && p.Description != tc.desc) {
				t.Errorf("description %q, want %q", p.Description, tc.desc)
			}
			if tc.posts != (len(p.Posts) > 0) {
				t.Errorf("%d posts, want some: %v", len(p.Posts), tc.posts)
			}
			if !strings.HasPrefix(p.Avatar, tc.avatar) {
				t.Errorf("avatar %q, want %q...", p.Avatar, tc.avatar)
			}
			for _, l := range p.Links {
				if !strings.HasPrefix(l, "http") || strings.ContainsAny(l, " <>\"") {
					t.Errorf("link %q", l)
				}
			}
			if strings.Contains(p.Title, "/ X") || strings.Contains(p.Title, "- YouTube") {
				t.Errorf("the title %q keeps the platform's decoration", p.Title)
			}
		})
	}
}

func TestReadPagePosts(t *testing.T) {
	body := `<html><head><title>T</title></head><body>
<div class="tgme_channel_info_header_title"><span>Relay</span></div>
<div class="tgme_channel_info_description">About <b>us</b></div>
<div class="tgme_widget_message_text">Read <a href="/s/other">this</a> and https://files.example/a.pdf, then follow @new_relay2 (not me@mail.example)</div>
<div class="tgme_widget_message_text">→ https://t.me/new_relay2</div>
<div class="tgme_widget_message_text">Again https://files.example/a.pdf.</div>
</body></html>`
	p := ReadPage("https://t.me/s/relay", takedown.PlatformTelegram, []byte(body))
	if p.Title != "Relay" || p.Description != "About us" || len(p.Posts) != 3 {
		t.Errorf("page %+v", p)
	}
	want := "https://t.me/s/other https://files.example/a.pdf https://t.me/new_relay2"
	if got := strings.Join(p.Links, " "); got != want {
		t.Errorf("links %q, want %q", got, want)
	}
	if got := strings.Join(p.Mentions, " "); got != "https://t.me/new_relay2" {
		t.Errorf("mentions %q", got)
	}
	q := ReadPage("https://t.me/relay", takedown.PlatformTelegram, []byte(`<div class="tgme_page_title"><span>Relay page</span></div><img class="tgme_page_photo_image" src="/a.jpg">`))
	q.Merge(p)
	if q.Title != "Relay page" || q.Avatar != "https://t.me/a.jpg" || len(q.Posts) != 3 || len(q.Links) != 3 || len(q.Mentions) != 1 {
		t.Errorf("merged %+v", q)
	}
	if got := canon.PostsURL(takedown.PlatformTelegram, takedown.KindChannel, "relay"); got != "https://t.me/s/relay" {
		t.Errorf("posts URL %q", got)
	}
	if got := canon.PostsURL(takedown.PlatformX, takedown.KindAccount, "relay"); got != "" {
		t.Errorf("posts URL of an account %q", got)
	}
}

func FuzzReadPage(f *testing.F) {
	for _, name := range []string{"telegram-present-preview", "x-present-account", "youtube-present-channel", "telegram-gone-channel"} {
		url, body := recordedPage(f, name)
		f.Add(url, string(body))
	}
	f.Add("https://t.me/s/x", `<div class="tgme_widget_message_text">@abcd https://[::1 <a href="%zz">`)
	f.Fuzz(func(t *testing.T, url, body string) {
		p := ReadPage(url, takedown.PlatformTelegram, []byte(body))
		for _, l := range append(p.Links, p.Mentions...) {
			if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
				t.Errorf("link %q", l)
			}
		}
		s := p.Signals(1, nil)
		s.Trim()
		if err := s.Validate(); err != nil {
			t.Errorf("signals of a page: %v", err)
		}
	})
}

// A channel whose posts name the removed one by its handle says so.
func TestScoreMention(t *testing.T) {
	old := prepare(Profile{ID: "1", Platform: "telegram", Handle: "old_news_relay", Posts: []string{"the weather today is fine"}}, nil)
	named := prepare(Profile{ID: "2", Platform: "x", Handle: "fresh_voice", Posts: []string{"We are back: our old channel @Old_News_Relay was banned"}}, nil)
	linked := prepare(Profile{ID: "3", Platform: "x", Handle: "fresh_voice2", Posts: []string{"formerly https://t.me/old_news_relay"}}, nil)
	other := prepare(Profile{ID: "4", Platform: "x", Handle: "fresh_voice3", Posts: []string{"write to me@old_news_relay.example"}}, nil)
	for _, c := range []*Item{named, linked} {
		if _, sig := Score(old, c); sig["mention"] != 1 {
			t.Errorf("%s: signals %v, want a mention", c.Posts[0], sig)
		}
	}
	if _, sig := Score(old, other); sig["mention"] != 0 {
		t.Errorf("an e-mail address counted as a mention: %v", sig)
	}
}
