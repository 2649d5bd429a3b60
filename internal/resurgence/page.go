package resurgence

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/net/html"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/pdq"
)

// Page is what a channel's or account's page shows, as the matcher reads
// it: read from the HTML of its page (a capture's, or the watch's).
type Page struct {
	Title       string
	Description string
	Posts       []string
	// Links are the absolute http(s) links of its posts, in order, once
	// each; Mentions the @handles its posts name, as URLs on its platform.
	Links    []string
	Mentions []string
	// Avatar is the URL of its avatar, "" if none shows.
	Avatar string
}

// Where the platforms' public pages put what a channel shows. The rules
// are markup, not platform names: a page of an unknown platform that uses
// none of them still gives its social title, description and image.
var (
	titleClasses = []string{"tgme_channel_info_header_title", "tgme_page_title"}
	descClasses  = []string{"tgme_channel_info_description", "tgme_page_description"}
	postClasses  = []string{"tgme_widget_message_text"}
	// data-testid of the microblog's profile.
	titleTestIDs = []string{"UserName"}
	descTestIDs  = []string{"UserDescription"}
	postTestIDs  = []string{"tweetText"}
	// element IDs of the video site's channel page.
	titleIDs = []string{"channel-name"}
	descIDs  = []string{"description"}
	postIDs  = []string{"video-title"}
)

var (
	urlInText = regexp.MustCompile(`https?://[^\s"'<>()]+`)
	mention   = regexp.MustCompile(`(?:^|[^\w@/.])@([A-Za-z][A-Za-z0-9_]{3,31})\b`)
)

// ReadPage reads a channel's or account's page. It never fails: what it
// cannot find stays empty.
func ReadPage(pageURL string, platform takedown.Platform, body []byte) Page {
	var p Page
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return p
	}
	base, _ := url.Parse(pageURL)
	var ogTitle, ogDesc, ogImage, docTitle, avatar string
	title, desc := "", ""
	seenLink := map[string]bool{}
	addLink := func(l string) {
		l = strings.TrimRight(l, ".,;:!?")
		if u, err := url.Parse(l); err == nil && base != nil {
			l = base.ResolveReference(u).String()
		}
		if (strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")) && !seenLink[l] {
			seenLink[l] = true
			p.Links = append(p.Links, l)
		}
	}
	seenMention := map[string]bool{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "meta":
				switch attr(n, "property") + attr(n, "name") {
				case "og:title":
					ogTitle = attr(n, "content")
				case "og:description", "description":
					if ogDesc == "" {
						ogDesc = attr(n, "content")
					}
				case "og:image":
					ogImage = attr(n, "content")
				}
			case n.Data == "title" && docTitle == "":
				docTitle = text(n)
			case n.Data == "img" && avatar == "" && isAvatar(n):
				avatar = attr(n, "src")
			case title == "" && matches(n, titleClasses, titleTestIDs, titleIDs):
				title = firstText(n)
			case desc == "" && matches(n, descClasses, descTestIDs, descIDs) && !hasClass(n, "tgme_page_description_unavailable"):
				desc = text(n)
			case matches(n, postClasses, postTestIDs, postIDs):
				t := text(n)
				if t != "" {
					p.Posts = append(p.Posts, t)
				}
				eachElement(n, "a", func(a *html.Node) { addLink(attr(a, "href")) })
				for _, l := range urlInText.FindAllString(t, -1) {
					addLink(l)
				}
				for _, m := range mention.FindAllStringSubmatch(t, -1) {
					if u := mentionURL(platform, m[1]); u != "" && !seenMention[u] {
						seenMention[u] = true
						p.Mentions = append(p.Mentions, u)
					}
				}
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	p.Title = firstOf(title, ogTitle, docTitle)
	p.Description = firstOf(desc, ogDesc)
	if a := firstOf(ogImage, avatar); a != "" {
		if u, err := url.Parse(a); err == nil && base != nil {
			a = base.ResolveReference(u).String()
		}
		p.Avatar = a
	}
	return p
}

// mentionURL is where an @handle of a post leads on the post's platform.
func mentionURL(platform takedown.Platform, handle string) string {
	switch platform {
	case takedown.PlatformTelegram:
		return "https://t.me/" + handle
	case takedown.PlatformX:
		return "https://x.com/" + handle
	case takedown.PlatformYouTube:
		return "https://www.youtube.com/@" + handle
	case takedown.PlatformInstagram:
		return "https://www.instagram.com/" + handle
	case takedown.PlatformTikTok:
		return "https://www.tiktok.com/@" + handle
	}
	return ""
}

// Merge adds what a second page of the same item (its posts preview)
// shows to p: the first page's title, description and avatar stay.
func (p *Page) Merge(q Page) {
	p.Title = firstOf(p.Title, q.Title)
	p.Description = firstOf(p.Description, q.Description)
	p.Avatar = firstOf(p.Avatar, q.Avatar)
	p.Posts = append(p.Posts, q.Posts...)
	seen := map[string]bool{}
	for _, l := range p.Links {
		seen[l] = true
	}
	for _, l := range q.Links {
		if !seen[l] {
			seen[l] = true
			p.Links = append(p.Links, l)
		}
	}
	mentioned := map[string]bool{}
	for _, m := range p.Mentions {
		mentioned[m] = true
	}
	for _, m := range q.Mentions {
		if !mentioned[m] {
			mentioned[m] = true
			p.Mentions = append(p.Mentions, m)
		}
	}
}

// Signals are the page's signals for item id, with its avatar's hash
// (quality 0 and an empty hash without one).
func (p Page) Signals(id int64, avatar *pdq.Result) *takedown.ItemSignals {
	s := &takedown.ItemSignals{ItemID: id, Title: p.Title, Description: p.Description, Posts: p.Posts, Links: p.Links}
	if avatar != nil {
		s.AvatarPDQ, s.AvatarQuality = avatar.Hash.String(), avatar.Quality
	}
	return s
}

func isAvatar(n *html.Node) bool {
	for p := n; p != nil; p = p.Parent {
		if hasClass(p, "tgme_page_photo_image") || attr(p, "data-testid") == "UserAvatar" || attr(p, "id") == "avatar" || hasClass(p, "logo") {
			return true
		}
	}
	return false
}

func matches(n *html.Node, classes, testIDs, ids []string) bool {
	for _, c := range classes {
		if hasClass(n, c) {
			return true
		}
	}
	if t := attr(n, "data-testid"); t != "" {
		for _, x := range testIDs {
			if t == x {
				return true
			}
		}
	}
	if id := attr(n, "id"); id != "" {
		for _, x := range ids {
			if id == x {
				return true
			}
		}
	}
	return false
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// text is an element's visible text, its whitespace collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
			b.WriteByte(' ')
		case n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style"):
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// firstText is the text of an element's first child element with any
// (a profile's name before its @handle), else its own.
func firstText(n *html.Node) string {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			if t := text(c); t != "" {
				return t
			}
		}
	}
	return text(n)
}

func eachElement(n *html.Node, tag string, f func(*html.Node)) {
	if n.Type == html.ElementNode && n.Data == tag {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		eachElement(c, tag, f)
	}
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
