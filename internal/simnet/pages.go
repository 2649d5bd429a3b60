package simnet

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The pages imitate the public pages of the platforms closely enough that
// a prober has to tell them apart the way it must on the real ones: a
// missing channel is not always a 404, a suspended account answers 200
// with a notice, a removed video says so in its page. The markup is
// written here, after the platforms' public pages; the texts are
// invented.

// regionHeader lets a request say where it comes from.
const regionHeader = "X-Simnet-Region"

func (s *Server) region(r *http.Request) string {
	if v := r.Header.Get(regionHeader); v != "" {
		return v
	}
	return s.world.Scenario.Region
}

// page is a response being written.
type page struct {
	status int
	ctype  string
	buf    bytes.Buffer
	header http.Header
}

func newPage(status int) *page {
	return &page{status: status, ctype: "text/html; charset=utf-8", header: http.Header{}}
}

func (p *page) write(ss ...string) {
	for _, s := range ss {
		p.buf.WriteString(s)
	}
}

// text writes s escaped for HTML.
func (p *page) text(s string) { p.buf.WriteString(html.EscapeString(s)) }

func (p *page) send(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range p.header {
		h[k] = v
	}
	h.Set("Content-Type", p.ctype)
	h.Set("Content-Length", strconv.Itoa(p.buf.Len()))
	w.WriteHeader(p.status)
	w.Write(p.buf.Bytes())
}

func redirect(w http.ResponseWriter, status int, to string) {
	w.Header().Set("Location", to)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
}

func (p *page) head(title, desc, image, canonical string) {
	p.write(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>`)
	p.text(title)
	p.write(`</title><meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="og:title" content="`)
	p.text(title)
	p.write(`"><meta property="og:description" content="`)
	p.text(desc)
	p.write(`">`)
	if image != "" {
		p.write(`<meta property="og:image" content="`)
		p.text(image)
		p.write(`">`)
	}
	if canonical != "" {
		p.write(`<link rel="canonical" href="`)
		p.text(canonical)
		p.write(`">`)
	}
	p.write("</head>\n<body>\n")
}

func (p *page) end() { p.write("\n</body></html>\n") }

// avatarURL is where an entity's avatar is served.
func avatarURL(e *Entity) string {
	return "https://" + mediaHost(e) + "/_media/avatar/" + strconv.Itoa(e.ID) + ".jpg"
}

func pictureURL(e *Entity, seed uint64) string {
	return "https://" + mediaHost(e) + "/_media/picture/" + strconv.FormatUint(seed, 16) + ".jpg"
}

func mediaHost(e *Entity) string {
	switch e.Platform {
	case Telegram:
		return "t.me"
	case X:
		return "x.com"
	case YouTube:
		return "www.youtube.com"
	}
	return e.Host
}

// postHTML writes a post's text with its links made clickable.
func (p *page) postHTML(text string) {
	for i, word := range strings.Fields(text) {
		if i > 0 {
			p.write(" ")
		}
		if strings.HasPrefix(word, "https://") || strings.HasPrefix(word, "http://") {
			p.write(`<a href="`)
			p.text(word)
			p.write(`" target="_blank" rel="noopener">`)
			p.text(word)
			p.write(`</a>`)
		} else {
			p.text(word)
		}
	}
}

// --- the channel service (Telegram-like) ---

func (s *Server) telegram(w http.ResponseWriter, r *http.Request, t target, now time.Time) {
	region := s.region(r)
	if t.view == viewTelegramInvite {
		s.telegramInvite(t, s.world.Status(t.entity, now, region)).send(w)
		return
	}
	c := t.container
	st := s.world.Status(c, now, region)
	if t.view == "" {
		p := newPage(http.StatusNotFound)
		p.head("Telegram", "", "", "")
		p.write(`<div class="tgme_page_wrap"><div class="tgme_page"><div class="tgme_page_description">Page not found.</div></div></div>`)
		p.end()
		p.send(w)
		return
	}
	switch {
	case t.view == viewTelegramPreview && (st == StatusMissing || st == StatusRemoved):
		// The service has no preview for such a name and sends visitors
		// to its plain page.
		to := "/" + t.name
		if t.number > 0 {
			to += "/" + strconv.Itoa(t.number)
		}
		redirect(w, http.StatusFound, to)
		return
	case st == StatusMissing || st == StatusRemoved:
		telegramContactPage(t.name).send(w)
		return
	case st == StatusWithheld:
		telegramWithheldPage(c, "channel").send(w)
		return
	}
	if t.view == viewTelegramPost {
		// A single message can be withheld in a region too.
		if e := c.items[strconv.Itoa(t.number)]; e != nil && s.world.Status(e, now, region) == StatusWithheld {
			telegramWithheldPage(c, "message").send(w)
			return
		}
	}
	switch t.view {
	case viewTelegramPreview:
		s.telegramPreview(c, now).send(w)
	case viewTelegramPost:
		s.telegramPost(c, t.number, now).send(w)
	default:
		s.telegramPage(c).send(w)
	}
}

// telegramWithheldPage is the service's notice for a channel or message
// withheld in the visitor's region: a 200 page with the channel's title
// and nothing else of it.
func telegramWithheldPage(c *Entity, what string) *page {
	p := newPage(http.StatusOK)
	p.head("Telegram: View @"+c.Handle, "", "", "")
	p.write(`<div class="tgme_page_wrap"><div class="tgme_page"><div class="tgme_page_title"><span dir="auto">`)
	p.text(c.Title)
	p.write(`</span></div><div class="tgme_page_description tgme_page_description_unavailable">This ` + what + ` can’t be displayed in your region because it violated local laws.</div></div></div>`)
	p.end()
	return p
}

// telegramContactPage is what the service shows for a name that is not (or
// no longer) a public channel: a 200 page with nothing of a channel in it.
func telegramContactPage(name string) *page {
	p := newPage(http.StatusOK)
	p.head("Telegram: Contact @"+name, "You can contact @"+name+" right away.", "", "")
	p.write(`<div class="tgme_page_wrap"><div class="tgme_page"><div class="tgme_page_icon"></div><div class="tgme_page_description">If you have <strong>Telegram</strong>, you can contact <a class="tgme_username_link" href="tg://resolve?domain=`)
	p.text(name)
	p.write(`">@`)
	p.text(name)
	p.write(`</a> right away.</div></div></div>`)
	p.end()
	return p
}

func (s *Server) telegramPage(c *Entity) *page {
	p := newPage(http.StatusOK)
	p.head("Telegram: View @"+c.Handle, c.Description, avatarURL(c), "")
	p.write(`<div class="tgme_page_wrap"><div class="tgme_page"><div class="tgme_page_photo"><img class="tgme_page_photo_image" src="`)
	p.text(avatarURL(c))
	p.write(`"></div><div class="tgme_page_title"><span dir="auto">`)
	p.text(c.Title)
	p.write(`</span></div><div class="tgme_page_extra">`)
	p.write(strconv.Itoa(c.Subscribers))
	if c.Kind == KindGroup {
		p.write(` members</div>`)
	} else {
		p.write(` subscribers</div>`)
	}
	p.write(`<div class="tgme_page_description" dir="auto">`)
	p.text(c.Description)
	p.write(`</div><div class="tgme_page_action"><a class="tgme_action_button_new" href="tg://resolve?domain=`)
	p.text(c.Handle)
	p.write(`">View in Telegram</a></div>`)
	if c.Kind == KindChannel {
		p.write(`<div class="tgme_page_context_link_wrap"><a class="tgme_page_context_link" href="/s/`)
		p.text(c.Handle)
		p.write(`">Preview channel</a></div>`)
	}
	p.write(`</div></div>`)
	p.end()
	return p
}

func (s *Server) telegramPreview(c *Entity, now time.Time) *page {
	p := newPage(http.StatusOK)
	p.head(c.Title+" – Telegram", c.Description, avatarURL(c), "")
	p.write(`<div class="tgme_channel_info"><div class="tgme_channel_info_header"><i class="tgme_page_photo_image"><img src="`)
	p.text(avatarURL(c))
	p.write(`"></i><div class="tgme_channel_info_header_title"><span dir="auto">`)
	p.text(c.Title)
	p.write(`</span></div><div class="tgme_channel_info_header_username"><a href="https://t.me/`)
	p.text(c.Handle)
	p.write(`">@`)
	p.text(c.Handle)
	p.write(`</a></div></div><div class="tgme_channel_info_description">`)
	p.text(c.Description)
	p.write(`</div><div class="tgme_channel_info_counters"><div class="tgme_channel_info_counter"><span class="counter_value">`)
	p.write(strconv.Itoa(c.Subscribers))
	p.write(`</span> <span class="counter_type">subscribers</span></div></div></div>
<section class="tgme_channel_history">`)
	for _, m := range s.world.posts(c, now) {
		s.telegramMessage(p, c, m)
	}
	p.write(`</section>`)
	p.end()
	return p
}

func (s *Server) telegramMessage(p *page, c *Entity, m post) {
	p.write(`<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" data-post="`)
	p.text(c.Handle)
	p.write("/", strconv.Itoa(m.number), `">`)
	if m.picture != 0 {
		p.write(`<a class="tgme_widget_message_photo_wrap" style="background-image:url('`, pictureURL(c, m.picture), `')"></a>`)
	}
	p.write(`<div class="tgme_widget_message_text" dir="auto">`)
	p.postHTML(m.text)
	p.write(`</div><a class="tgme_widget_message_date" href="https://t.me/`)
	p.text(c.Handle)
	p.write("/", strconv.Itoa(m.number), `"><time datetime="`, m.at.Format(time.RFC3339), `"></time></a></div></div>`, "\n")
}

func (s *Server) telegramPost(c *Entity, n int, now time.Time) *page {
	var m post
	found := false
	for _, x := range s.world.posts(c, now) {
		if x.number == n {
			m, found = x, true
		}
	}
	if !found && c.Predecessor == nil && n <= c.PostCount {
		m, found = s.world.postOf(c, n, ""), true
	}
	if e := c.items[strconv.Itoa(n)]; e != nil && s.world.Status(e, now, "") == StatusRemoved {
		found = false
	}
	if !found {
		// A deleted post shows the channel's page without a message.
		return s.telegramPage(c)
	}
	p := newPage(http.StatusOK)
	p.head(c.Title+" – Telegram", m.text, avatarURL(c), "")
	p.write(`<div class="tgme_page_wrap"><div class="tgme_page_post">`)
	s.telegramMessage(p, c, m)
	p.write(`</div></div>`)
	p.end()
	return p
}

func (s *Server) telegramInvite(t target, st Status) *page {
	p := newPage(http.StatusOK)
	e := t.entity
	if st != StatusLive {
		p.head("Join group chat on Telegram", "", "", "")
		p.write(`<div class="tgme_page_wrap"><div class="tgme_page"><div class="tgme_page_icon"></div><div class="tgme_page_description">This invite link is invalid or has expired.</div></div></div>`)
		p.end()
		return p
	}
	p.head("Join group chat on Telegram", e.Description, avatarURL(e), "")
	p.write(`<div class="tgme_page_wrap"><div class="tgme_page"><div class="tgme_page_photo"><img class="tgme_page_photo_image" src="`)
	p.text(avatarURL(e))
	p.write(`"></div><div class="tgme_page_title"><span dir="auto">`)
	p.text(e.Title)
	p.write(`</span></div><div class="tgme_page_extra">`, strconv.Itoa(e.Subscribers), ` members</div><div class="tgme_page_description">`)
	p.text(e.Description)
	p.write(`</div><div class="tgme_page_action"><a class="tgme_action_button_new" href="tg://join?invite=`)
	p.text(t.name)
	p.write(`">Join Group</a></div></div></div>`)
	p.end()
	return p
}

// --- the microblog (X-like) ---

func (s *Server) microblog(w http.ResponseWriter, r *http.Request, t target, now time.Time) {
	if t.view == "" {
		xNotice(http.StatusNotFound, "Page not found", "Hmm...this page doesn’t exist. Try searching for something else.").send(w)
		return
	}
	if t.view == viewXLogin {
		xLoginPage().send(w)
		return
	}
	region := s.region(r)
	acct := t.container
	if s.world.LoginWall(acct) || s.world.LoginWall(t.entity) {
		// The wall comes before anything about the account: a visitor
		// without a session learns nothing, not even whether it exists.
		xLoginRedirect(w, r)
		return
	}
	switch st := s.world.Status(acct, now, region); {
	case acct == nil && t.view == viewXProfile, st == StatusMissing && t.view == viewXProfile:
		xNotice(http.StatusOK, "Profile / X", "This account doesn’t exist. Try searching for another.").send(w)
		return
	case st == StatusRemoved:
		if t.view == viewXStatus {
			xNotice(http.StatusOK, "Post / X", "This post is from a suspended account. Learn more").send(w)
			return
		}
		xNotice(http.StatusOK, "Account suspended / X", "Account suspended. X suspends accounts which violate the X Rules.").send(w)
		return
	case st == StatusWithheld:
		xNotice(http.StatusOK, "Account withheld / X", "@"+acct.Handle+"’s account has been withheld in "+region+" in response to a legal demand.").send(w)
		return
	}
	if t.view == viewXProfile {
		s.xProfile(acct, now).send(w)
		return
	}
	// A status: an item of its own, or a post of a live account.
	var m post
	found := false
	if t.entity != nil {
		switch s.world.Status(t.entity, now, region) {
		case StatusLive:
			m, found = s.world.posts(t.entity, now)[0], true
		case StatusWithheld:
			xNotice(http.StatusOK, "Post / X", "This post from @"+acct.Handle+" has been withheld in "+region+" in response to a legal demand.").send(w)
			return
		}
	} else if acct != nil {
		for _, x := range s.world.posts(acct, now) {
			if x.code == t.name {
				m, found = x, true
			}
		}
	}
	if !found {
		xNotice(http.StatusOK, "Post / X", "Hmm...this page doesn’t exist. Try searching for something else.").send(w)
		return
	}
	if acct == nil {
		acct = t.entity.Parent
	}
	p := newPage(http.StatusOK)
	p.head(acct.Title+" on X: \""+shortText(m.text, 80)+"\" / X", m.text, avatarURL(acct), "https://x.com/"+acct.Handle+"/status/"+t.name)
	p.write(`<main role="main">`)
	s.xPost(p, acct, m)
	p.write(`</main>`)
	p.end()
	p.send(w)
}

func shortText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func xNotice(status int, title, text string) *page {
	p := newPage(status)
	p.head(title, "", "", "")
	p.write(`<main role="main"><div data-testid="emptyState"><span>`)
	p.text(text)
	p.write(`</span></div></main>`)
	p.end()
	return p
}

func (s *Server) xProfile(a *Entity, now time.Time) *page {
	p := newPage(http.StatusOK)
	p.head(a.Title+" (@"+a.Handle+") / X", a.Description, avatarURL(a), "https://x.com/"+a.Handle)
	p.write(`<main role="main"><div data-testid="UserAvatar"><img src="`)
	p.text(avatarURL(a))
	p.write(`" alt=""></div><div data-testid="UserName"><span>`)
	p.text(a.Title)
	p.write(`</span> <span>@`)
	p.text(a.Handle)
	p.write(`</span></div><div data-testid="UserDescription">`)
	p.text(a.Description)
	p.write(`</div><div><span>`, strconv.Itoa(a.Subscribers), `</span> Followers</div>`, "\n")
	for _, m := range s.world.posts(a, now) {
		s.xPost(p, a, m)
	}
	p.write(`</main>`)
	p.end()
	return p
}

func (s *Server) xPost(p *page, a *Entity, m post) {
	p.write(`<article data-testid="tweet"><a href="/`)
	p.text(a.Handle)
	p.write(`/status/`, m.code, `"><time datetime="`, m.at.Format(time.RFC3339), `"></time></a><div data-testid="tweetText" lang="`, a.Language, `">`)
	p.postHTML(m.text)
	p.write(`</div>`)
	if m.picture != 0 {
		p.write(`<div data-testid="tweetPhoto"><img src="`, pictureURL(a, m.picture), `"></div>`)
	}
	p.write("</article>\n")
}

// --- the video site (YouTube-like) ---

func (s *Server) video(w http.ResponseWriter, r *http.Request, t target, now time.Time) {
	if t.view == viewYouTubeShort {
		redirect(w, http.StatusMovedPermanently, "https://www.youtube.com/watch?v="+t.name+"&feature=youtu.be")
		return
	}
	region := s.region(r)
	switch t.view {
	case viewYouTubeChannel:
		c := t.entity
		switch s.world.Status(c, now, region) {
		case StatusMissing:
			ytNotice(http.StatusNotFound, "404 Not Found", "This page isn't available. Sorry about that. Try searching for something else.").send(w)
		case StatusRemoved:
			ytNotice(http.StatusNotFound, "YouTube", "This account has been terminated for a violation of the terms of service.").send(w)
		case StatusWithheld:
			ytNotice(http.StatusOK, "YouTube", "This channel is not available in your country.").send(w)
		default:
			s.ytChannel(c, now).send(w)
		}
		return
	case viewYouTubeVideo:
		v := t.entity
		if v == nil && t.name != "" {
			// A video that is no item: one of a channel's made-up ones.
			ytNotice(http.StatusOK, "YouTube", "Video unavailable. This video isn't available anymore.").send(w)
			return
		}
		switch st := s.world.Status(v, now, region); {
		case st == StatusMissing:
			ytNotice(http.StatusOK, "YouTube", "Video unavailable. This video isn't available anymore.").send(w)
		case st == StatusRemoved && s.world.Status(v.Parent, now, region) == StatusRemoved:
			ytNotice(http.StatusOK, "YouTube", "Video unavailable. This video is no longer available because the YouTube account associated with this video has been terminated.").send(w)
		case st == StatusRemoved:
			ytNotice(http.StatusOK, "YouTube", "Video unavailable. This video has been removed for violating the terms of service.").send(w)
		case st == StatusWithheld:
			ytNotice(http.StatusOK, "YouTube", "Video unavailable. The uploader has not made this video available in your country.").send(w)
		default:
			s.ytVideo(v).send(w)
		}
		return
	}
	ytNotice(http.StatusNotFound, "404 Not Found", "This page isn't available. Sorry about that. Try searching for something else.").send(w)
}

func ytNotice(status int, title, text string) *page {
	p := newPage(status)
	p.head(title, "", "", "")
	p.write(`<div id="player-unavailable"><div class="yt-playability-error-supported-renderers"><div id="reason">`)
	p.text(text)
	p.write(`</div></div></div>`)
	p.end()
	return p
}

func (s *Server) ytChannel(c *Entity, now time.Time) *page {
	p := newPage(http.StatusOK)
	p.head(c.Title+" - YouTube", c.Description, avatarURL(c), "https://www.youtube.com/channel/"+c.Code)
	p.write(`<div id="channel-header"><yt-img-shadow id="avatar"><img src="`)
	p.text(avatarURL(c))
	p.write(`"></yt-img-shadow><yt-formatted-string id="channel-name">`)
	p.text(c.Title)
	p.write(`</yt-formatted-string><yt-formatted-string id="channel-handle">@`)
	p.text(c.Handle)
	p.write(`</yt-formatted-string><yt-formatted-string id="subscriber-count">`, strconv.Itoa(c.Subscribers), ` subscribers</yt-formatted-string><div id="description">`)
	p.text(c.Description)
	p.write(`</div></div><div id="contents">`, "\n")
	for _, m := range s.world.posts(c, now) {
		p.write(`<ytd-grid-video-renderer><a id="video-title" href="/watch?v=`, m.code, `">`)
		p.text(shortText(m.text, 60))
		p.write("</a></ytd-grid-video-renderer>\n")
	}
	p.write(`</div>`)
	p.end()
	return p
}

func (s *Server) ytVideo(v *Entity) *page {
	c := v.Parent
	p := newPage(http.StatusOK)
	p.head(v.Title+" - YouTube", v.Description, "https://i.ytimg.com/vi/"+v.Code+"/hqdefault.jpg", "https://www.youtube.com/watch?v="+v.Code)
	p.write(`<div id="player"><video src="/_media/video/`, v.Code, `.mp4"></video></div><h1 class="title">`)
	p.text(v.Title)
	p.write(`</h1><div id="owner"><a href="/@`)
	p.text(c.Handle)
	p.write(`">`)
	p.text(c.Title)
	p.write(`</a></div><div id="description">`)
	p.postHTML(v.Description + " " + strings.Join(firstN(v.Outlet.Links, 2), " "))
	p.write(`</div>`)
	p.end()
	return p
}

func firstN(ss []string, n int) []string { return ss[:min(n, len(ss))] }

// --- the file host ---

var fileTypes = map[string]string{
	"pdf": "application/pdf", "mp4": "video/mp4", "zip": "application/zip", "mp3": "audio/mpeg", "epub": "application/epub+zip",
}

func (s *Server) fileHost(w http.ResponseWriter, r *http.Request, t target, now time.Time) {
	f := t.entity
	switch s.world.Status(f, now, s.region(r)) {
	case StatusMissing:
		plainNotice(http.StatusNotFound, "File not found", "The file you are looking for does not exist.").send(w)
		return
	case StatusRemoved:
		plainNotice(http.StatusNotFound, "File removed", "This file has been removed for a violation of our terms of service.").send(w)
		return
	case StatusWithheld:
		plainNotice(http.StatusUnavailableForLegalReasons, "Unavailable for legal reasons", "This file is not available in your country.").send(w)
		return
	}
	ext := f.Path[strings.LastIndexByte(f.Path, '.')+1:]
	p := newPage(http.StatusOK)
	p.ctype = fileTypes[ext]
	p.header.Set("Content-Disposition", `attachment; filename="`+f.Title+`"`)
	// A small synthetic body: a file's identity is its URL and size here,
	// not real content.
	r2 := rng(s.world.Seed, "file", uint64(f.ID))
	if ext == "pdf" {
		p.write("%PDF-1.4\n% synthetic file of the takedown simulator\n")
	}
	body := make([]byte, 2048+r2.IntN(6144))
	for i := range body {
		body[i] = byte(r2.Uint32())
	}
	p.buf.Write(body)
	p.send(w)
}

func plainNotice(status int, title, text string) *page {
	p := newPage(status)
	p.head(title, "", "", "")
	p.write(`<h1>`)
	p.text(title)
	p.write(`</h1><p>`)
	p.text(text)
	p.write(`</p>`)
	p.end()
	return p
}

// --- the web host ---

func (s *Server) webHost(w http.ResponseWriter, r *http.Request, t target, now time.Time) {
	region := s.region(r)
	site := t.container
	if s.world.Status(site, now, region) == StatusRemoved {
		// Hosting providers replace a suspended site with a notice that
		// answers 200: offline, though the status says otherwise.
		plainNotice(http.StatusOK, "Account Suspended", "This account has been suspended. Contact your hosting provider for more information.").send(w)
		return
	}
	e := t.entity
	switch s.world.Status(e, now, region) {
	case StatusMissing, StatusRemoved:
		plainNotice(http.StatusNotFound, "404 Not Found", "The requested URL was not found on this server.").send(w)
		return
	case StatusWithheld:
		plainNotice(http.StatusUnavailableForLegalReasons, "451 Unavailable For Legal Reasons", "This page is not available in your region.").send(w)
		return
	}
	p := newPage(http.StatusOK)
	// Small sites' logos are PNG files, the platforms' avatars JPEG.
	p.head(e.Title, e.Description, "https://"+e.Host+"/_media/avatar/"+strconv.Itoa(site.ID)+".png", e.URL)
	p.write(`<header><img class="logo" src="/_media/avatar/`, strconv.Itoa(site.ID), `.png" alt=""><a href="/">`)
	p.text(site.Title)
	p.write(`</a></header><article><h1>`)
	p.text(e.Title)
	p.write(`</h1><p>`)
	p.postHTML(e.Description)
	p.write(`</p><p>`)
	p.postHTML(strings.Join(firstN(e.Outlet.Links, 4), " "))
	p.write(`</p></article>`)
	if e == site {
		p.write(`<nav>`)
		n := 0
		for _, x := range s.world.sitePages(site) {
			if n == 30 {
				break
			}
			p.write(`<a href="`)
			p.text(x.Path)
			p.write(`">`)
			p.text(x.Title)
			p.write("</a>\n")
			n++
		}
		p.write(`</nav>`)
	}
	p.end()
	p.send(w)
}

// sitePages returns the pages of a site, for its front page.
func (w *World) sitePages(site *Entity) []*Entity {
	var out []*Entity
	for _, e := range w.Entities[site.ID+1:] {
		if e.Parent != site {
			break
		}
		out = append(out, e)
	}
	return out
}

// unknownHost answers for a host the simulated internet does not have. It
// cannot fail a DNS lookup, since every name leads here; it says so
// plainly instead.
func unknownHost(w http.ResponseWriter, host string) {
	w.Header().Set("X-Simnet-Unknown-Host", "1")
	plainNotice(http.StatusNotFound, "Unknown host", fmt.Sprintf("%s is not a host of the simulated internet.", host)).send(w)
}
