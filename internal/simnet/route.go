package simnet

import (
	"net/url"
	"strconv"
	"strings"
)

// Views: which page of a platform a request asks for.
const (
	viewTelegramPreview = "telegram-preview" // t.me/s/NAME
	viewTelegramPage    = "telegram-page"    // t.me/NAME
	viewTelegramPost    = "telegram-post"    // t.me/NAME/123
	viewTelegramInvite  = "telegram-invite"  // t.me/+HASH
	viewXProfile        = "x-profile"
	viewXStatus         = "x-status"
	viewXLogin          = "x-login" // x.com/i/flow/login
	viewYouTubeChannel  = "youtube-channel"
	viewYouTubeVideo    = "youtube-video"
	viewYouTubeShort    = "youtube-short-link" // youtu.be/ID redirects
	viewFile            = "file"
	viewWeb             = "web"
)

// target is what an address points at on the simulated internet.
type target struct {
	platform string
	view     string
	entity   *Entity // nil when nothing is there
	// container is the channel or account of a post page, found even
	// when the post is no item of its own.
	container *Entity
	name      string // the name or ID asked for
	number    int    // a Telegram post number
}

// Platform hosts: the hosts each simulated service answers on, as the
// real ones do.
var platformHosts = map[string]string{
	"t.me": Telegram, "www.t.me": Telegram, "telegram.me": Telegram, "www.telegram.me": Telegram, "telegram.dog": Telegram, "www.telegram.dog": Telegram,
	"x.com": X, "www.x.com": X, "mobile.x.com": X, "twitter.com": X, "www.twitter.com": X, "mobile.twitter.com": X, "m.twitter.com": X,
	"youtube.com": YouTube, "www.youtube.com": YouTube, "m.youtube.com": YouTube, "youtu.be": YouTube,
}

// telegramReserved are paths of the channel service that are no channel.
var telegramReserved = map[string]bool{"s": true, "joinchat": true, "addstickers": true, "share": true, "proxy": true, "login": true, "iv": true, "faq": true, "privacy": true, "_media": true}

// hostPlatformOf returns the service a host belongs to, "" for none.
func (w *World) hostPlatformOf(host string) string {
	if p, ok := platformHosts[host]; ok {
		return p
	}
	for _, h := range w.Scenario.Network.FileHosts {
		if host == h || host == "www."+h {
			return FileHost
		}
	}
	if _, ok := w.lookup(WebHost, strings.TrimPrefix(host, "www."), "/"); ok {
		return WebHost
	}
	return ""
}

// route resolves an address the way the platform would. ok is false for
// a host the simulated internet does not have.
func (w *World) route(host, path string, query url.Values) (t target, ok bool) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	t.platform = w.hostPlatformOf(host)
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	switch t.platform {
	case "":
		return t, false
	case Telegram:
		w.routeTelegram(&t, segs)
	case X:
		w.routeX(&t, segs)
	case YouTube:
		w.routeYouTube(&t, host, segs, query)
	case FileHost:
		t.view = viewFile
		if len(segs) >= 2 && segs[0] == "f" {
			t.name = segs[1]
			for _, h := range w.Scenario.Network.FileHosts {
				if strings.TrimPrefix(host, "www.") == h {
					t.entity, _ = w.lookup(FileHost, h, segs[1])
				}
			}
		}
	case WebHost:
		t.view = viewWeb
		site := strings.TrimPrefix(host, "www.")
		p := "/" + strings.Join(segs, "/")
		t.entity, _ = w.lookup(WebHost, site, p)
		t.container, _ = w.lookup(WebHost, site, "/")
	}
	return t, true
}

func (w *World) routeTelegram(t *target, segs []string) {
	if len(segs) == 0 {
		return
	}
	t.view = viewTelegramPage
	if segs[0] == "s" {
		t.view, segs = viewTelegramPreview, segs[1:]
		if len(segs) == 0 {
			return
		}
	}
	switch {
	case strings.HasPrefix(segs[0], "+") && t.view == viewTelegramPage:
		t.view, t.name = viewTelegramInvite, segs[0][1:]
		t.entity, _ = w.lookup(Telegram, "invite", t.name)
		return
	case segs[0] == "joinchat" && len(segs) > 1:
		t.view, t.name = viewTelegramInvite, segs[1]
		t.entity, _ = w.lookup(Telegram, "invite", t.name)
		return
	case telegramReserved[strings.ToLower(segs[0])]:
		t.view = ""
		return
	}
	t.name = segs[0]
	c, _ := w.lookup(Telegram, "name", strings.ToLower(segs[0]))
	t.container, t.entity = c, c
	if len(segs) > 1 {
		n, err := strconv.Atoi(segs[1])
		if err != nil || n <= 0 {
			t.entity = nil
			return
		}
		if t.view == viewTelegramPage {
			t.view = viewTelegramPost
		}
		t.number, t.entity = n, nil
		if c != nil {
			w.mu.RLock()
			t.entity = c.items[strconv.Itoa(n)]
			w.mu.RUnlock()
		}
	}
}

func (w *World) routeX(t *target, segs []string) {
	switch {
	case len(segs) == 0:
		return
	case len(segs) == 3 && segs[0] == "i" && segs[1] == "flow" && segs[2] == "login":
		t.view = viewXLogin
		return
	case len(segs) >= 4 && segs[0] == "i" && segs[1] == "web" && segs[2] == "status":
		t.view, t.name = viewXStatus, segs[3]
	case len(segs) >= 3 && segs[1] == "status":
		t.view, t.name = viewXStatus, segs[2]
		t.container, _ = w.lookup(X, "name", strings.ToLower(segs[0]))
	case len(segs) == 1 || len(segs) == 2 && (segs[1] == "with_replies" || segs[1] == "media"):
		t.view, t.name = viewXProfile, segs[0]
		t.entity, _ = w.lookup(X, "name", strings.ToLower(segs[0]))
		t.container = t.entity
		return
	default:
		return
	}
	t.entity, _ = w.lookup(X, "status", t.name)
	if t.entity != nil {
		t.container = t.entity.Parent
	}
}

func (w *World) routeYouTube(t *target, host string, segs []string, query url.Values) {
	if host == "youtu.be" {
		if len(segs) > 0 {
			t.view, t.name = viewYouTubeShort, segs[0]
		}
		return
	}
	switch {
	case len(segs) == 1 && segs[0] == "watch":
		t.view, t.name = viewYouTubeVideo, query.Get("v")
	case len(segs) >= 2 && (segs[0] == "shorts" || segs[0] == "embed" || segs[0] == "live"):
		t.view, t.name = viewYouTubeVideo, segs[1]
	case len(segs) >= 1 && strings.HasPrefix(segs[0], "@"):
		t.view, t.name = viewYouTubeChannel, segs[0][1:]
		t.entity, _ = w.lookup(YouTube, "handle", strings.ToLower(t.name))
		t.container = t.entity
		return
	case len(segs) >= 2 && segs[0] == "channel":
		t.view, t.name = viewYouTubeChannel, segs[1]
		t.entity, _ = w.lookup(YouTube, "channel", segs[1])
		t.container = t.entity
		return
	default:
		return
	}
	t.entity, _ = w.lookup(YouTube, "video", t.name)
	if t.entity != nil {
		t.container = t.entity.Parent
	}
}

// Resolve returns the entity a URL names on the simulated internet, or nil.
func (w *World) Resolve(rawURL string) *Entity {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil
	}
	if u.Host == "" && u.Scheme == "" {
		if u, err = url.Parse("https://" + strings.TrimSpace(rawURL)); err != nil {
			return nil
		}
	}
	t, ok := w.route(u.Hostname(), u.Path, u.Query())
	if !ok {
		return nil
	}
	if t.view == viewYouTubeShort {
		t.entity, _ = w.lookup(YouTube, "video", t.name)
	}
	return t.entity
}
