package canon

import (
	"strings"

	"github.com/takedown-project/takedown"
)

// recognizePlatform applies the rules of the platform p's host belongs to.
// Hosts match exactly: "t.me.evil.example" and "evilt.me" are websites.
func recognizePlatform(p *parts) (takedown.Recognition, bool) {
	switch p.host {
	case "t.me", "www.t.me", "telegram.me", "www.telegram.me", "telegram.dog", "www.telegram.dog":
		return telegram(p), true
	case "x.com", "www.x.com", "mobile.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com", "m.twitter.com":
		return twitter(p), true
	case "facebook.com", "www.facebook.com", "m.facebook.com", "mbasic.facebook.com", "web.facebook.com", "touch.facebook.com", "fb.com", "www.fb.com":
		return facebook(p), true
	case "instagram.com", "www.instagram.com", "m.instagram.com", "instagr.am", "www.instagr.am":
		return instagram(p), true
	case "youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "youtu.be", "www.youtu.be", "youtube-nocookie.com", "www.youtube-nocookie.com":
		return youtube(p), true
	case "tiktok.com", "www.tiktok.com", "m.tiktok.com", "vm.tiktok.com", "vt.tiktok.com":
		return tiktok(p), true
	}
	return takedown.Recognition{}, false
}

// platformPage is a page on a platform that is not an item of its own
// (a help page, a search): a website of that platform.
func platformPage(p *parts, platform takedown.Platform, host string, tracking paramSet) takedown.Recognition {
	q, hasQ := dropParams(p.query, tracking)
	c := parts{scheme: "https", host: host, path: p.path, query: q, hasQuery: hasQ && p.hasQuery}
	canonical := c.String()
	return takedown.Recognition{Identity: string(platform) + ":page:" + canonical[len("https://"):], Canonical: canonical, Platform: platform, Kind: takedown.KindWebsite}
}

func rec(platform takedown.Platform, kind takedown.Kind, identity, canonical, handle string) takedown.Recognition {
	return takedown.Recognition{Identity: identity, Canonical: canonical, Platform: platform, Kind: kind, Handle: handle}
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// idChars reports whether s is a non-empty run of [A-Za-z0-9_-], the
// characters of platform IDs and invite hashes.
func idChars(s string) bool { return wordChars(strings.ReplaceAll(s, "-", "_"), false) }

// wordChars reports whether s is made of [A-Za-z0-9_] and, when dots, '.'.
func wordChars(s string, dots bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || dots && c == '.') {
			return false
		}
	}
	return true
}

// --- Telegram ---

var telegramTracking = paramSet{names: []string{"single", "embed", "comment", "thread", "before", "after", "q"}}

var telegramReserved = map[string]bool{
	"addstickers": true, "addemoji": true, "addtheme": true, "addlist": true, "share": true, "proxy": true, "socks": true,
	"login": true, "iv": true, "setlanguage": true, "bg": true, "confirmphone": true, "invoice": true, "boost": true,
	"apps": true, "blog": true, "faq": true, "privacy": true, "tos": true, "api": true, "dl": true, "k": true, "a": true, "z": true,
}

// validTelegramName: 4-32 characters of [A-Za-z0-9_], starting with a
// letter (public usernames are 5+, but some old and collectible ones are 4).
func validTelegramName(n string) bool {
	if len(n) < 4 || len(n) > 32 || !wordChars(n, false) {
		return false
	}
	c := n[0]
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func telegram(p *parts) takedown.Recognition {
	segs := segments(p.path)
	if len(segs) > 0 && segs[0] == "s" {
		segs = segs[1:] // the public preview of the same channel
	}
	page := func() takedown.Recognition {
		return platformPage(p, takedown.PlatformTelegram, "t.me", telegramTracking)
	}
	if len(segs) == 0 {
		return page()
	}
	first := segs[0]
	switch {
	case first == "joinchat" && len(segs) >= 2 && idChars(segs[1]):
		return telegramInvite(segs[1])
	case strings.HasPrefix(first, "+") && len(first) > 1:
		if allDigits(first[1:]) || !idChars(first[1:]) {
			return page() // a phone number link, not an invite
		}
		return telegramInvite(first[1:])
	case first == "c" && len(segs) >= 3 && allDigits(segs[1]) && allDigits(segs[2]):
		id := segs[1] + "/" + segs[2]
		return rec(takedown.PlatformTelegram, takedown.KindPost, "telegram:c/"+id, "https://t.me/c/"+id, "")
	}
	lower := strings.ToLower(first)
	if telegramReserved[lower] || !validTelegramName(first) {
		return page()
	}
	if len(segs) >= 2 && allDigits(segs[1]) {
		id := lower + "/" + segs[1]
		return rec(takedown.PlatformTelegram, takedown.KindPost, "telegram:"+id, "https://t.me/"+id, lower)
	}
	kind := takedown.KindChannel
	if strings.HasSuffix(lower, "bot") {
		kind = takedown.KindAccount
	}
	return rec(takedown.PlatformTelegram, kind, "telegram:"+lower, "https://t.me/"+lower, lower)
}

// telegramInvite: invite hashes are case-sensitive.
func telegramInvite(hash string) takedown.Recognition {
	return rec(takedown.PlatformTelegram, takedown.KindInvite, "telegram:+"+hash, "https://t.me/+"+hash, "")
}

// recognizeTG handles tg://resolve?domain=NAME[&post=N] links.
func recognizeTG(raw string) (takedown.Recognition, error) {
	s := trimControl(raw)
	const prefix = "tg://resolve?"
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return takedown.Recognition{}, invalid("not a web URL: %s; of tg: links only tg://resolve?domain=NAME is understood", quote(raw))
	}
	q := s[len(prefix):]
	name := param(q, "domain")
	if !validTelegramName(name) {
		return takedown.Recognition{}, invalid("not a Telegram link: %s has no valid domain=NAME", quote(raw))
	}
	u := "https://t.me/" + name
	if post := param(q, "post"); allDigits(post) {
		u += "/" + post
	}
	return Recognize(u)
}

// --- X / Twitter ---

var twitterTracking = paramSet{names: []string{"s", "t", "ref_src", "ref_url", "lang", "cxt", "src"}}

var twitterReserved = map[string]bool{
	"home": true, "search": true, "explore": true, "i": true, "settings": true, "notifications": true, "messages": true,
	"login": true, "logout": true, "signup": true, "tos": true, "privacy": true, "hashtag": true, "intent": true,
	"share": true, "compose": true, "about": true, "jobs": true, "download": true, "account": true, "help": true,
	"rules": true, "en": true, "oauth": true, "web": true, "bookmarks": true, "lists": true, "topics": true, "communities": true,
	"following": true, "followers": true, "verified_followers": true, "flow": true, "who_to_follow": true, "tweet": true,
}

func twitter(p *parts) takedown.Recognition {
	segs := segments(p.path)
	page := func() takedown.Recognition { return platformPage(p, takedown.PlatformX, "x.com", twitterTracking) }
	if len(segs) == 0 {
		return page()
	}
	if len(segs) >= 4 && segs[0] == "i" && segs[1] == "web" && segs[2] == "status" && allDigits(segs[3]) {
		return rec(takedown.PlatformX, takedown.KindPost, "x:status:"+segs[3], "https://x.com/i/web/status/"+segs[3], "")
	}
	name := segs[0]
	lower := strings.ToLower(name)
	if twitterReserved[lower] || len(name) > 15 || !wordChars(name, false) {
		return page()
	}
	if len(segs) >= 3 && (segs[1] == "status" || segs[1] == "statuses") && allDigits(segs[2]) {
		return rec(takedown.PlatformX, takedown.KindPost, "x:status:"+segs[2], "https://x.com/"+lower+"/status/"+segs[2], lower)
	}
	return rec(takedown.PlatformX, takedown.KindAccount, "x:"+lower, "https://x.com/"+lower, lower)
}

// --- Facebook ---

var facebookTracking = paramSet{
	prefixes: []string{"__cft__", "__tn__", "__xts__"},
	names:    []string{"mibextid", "rdid", "sfnsn", "ref", "refsrc", "hc_ref", "fref", "eid", "paipv", "_rdr", "notif_id", "notif_t", "sk"},
}

var facebookReserved = map[string]bool{
	"home.php": true, "login": true, "login.php": true, "help": true, "policies": true, "policy.php": true, "events": true,
	"marketplace": true, "gaming": true, "settings": true, "privacy": true, "sharer": true, "sharer.php": true, "dialog": true,
	"search": true, "friends": true, "messages": true, "notifications": true, "bookmarks": true, "hashtag": true, "legal": true,
	"terms": true, "about": true, "business": true, "ads": true, "pages": true, "watch": true, "l.php": true, "photo.php": true,
	"photo": true, "stories": true, "reel": true, "share": true, "profile.php": true, "permalink.php": true, "story.php": true,
	"people": true, "groups": true, "media": true, "video.php": true, "reg": true, "recover": true, "checkpoint": true,
}

func facebook(p *parts) takedown.Recognition {
	segs := segments(p.path)
	page := func() takedown.Recognition {
		return platformPage(p, takedown.PlatformFacebook, "www.facebook.com", facebookTracking)
	}
	if len(segs) == 0 {
		return page()
	}
	// A post keeps the form of URL it came in, the one that opens it.
	post := func(id, canonical string) takedown.Recognition {
		return rec(takedown.PlatformFacebook, takedown.KindPost, "facebook:post:"+id, canonical, "")
	}
	account := func(id string) takedown.Recognition {
		return rec(takedown.PlatformFacebook, takedown.KindAccount, "facebook:id:"+id, "https://www.facebook.com/profile.php?id="+id, "")
	}
	first := strings.ToLower(segs[0])
	switch first {
	case "profile.php":
		if id := param(p.query, "id"); allDigits(id) {
			return account(id)
		}
		return page()
	case "people":
		if len(segs) >= 3 && allDigits(segs[2]) {
			return account(segs[2])
		}
		return page()
	case "groups":
		if len(segs) >= 2 && wordChars(segs[1], true) {
			g := strings.ToLower(segs[1])
			if len(segs) >= 4 && (segs[2] == "posts" || segs[2] == "permalink") && allDigits(segs[3]) {
				return post(segs[3], "https://www.facebook.com/groups/"+g+"/posts/"+segs[3])
			}
			return rec(takedown.PlatformFacebook, takedown.KindGroup, "facebook:group:"+strings.ReplaceAll(g, ".", ""), "https://www.facebook.com/groups/"+g, "")
		}
		return page()
	case "permalink.php", "story.php":
		if id := param(p.query, "story_fbid"); wordChars(id, false) {
			c := "https://www.facebook.com/permalink.php?story_fbid=" + id
			if owner := param(p.query, "id"); allDigits(owner) {
				c += "&id=" + owner
			}
			return post(id, c)
		}
		return page()
	case "watch":
		if v := param(p.query, "v"); allDigits(v) {
			return post(v, "https://www.facebook.com/watch/?v="+v)
		}
		return page()
	case "reel":
		if len(segs) >= 2 && allDigits(segs[1]) {
			return post(segs[1], "https://www.facebook.com/reel/"+segs[1])
		}
		return page()
	}
	if facebookReserved[first] || !wordChars(segs[0], true) || len(segs[0]) < 5 && !allDigits(segs[0]) {
		return page()
	}
	if len(segs) >= 3 && (segs[1] == "posts" || segs[1] == "videos" || segs[1] == "photos") && wordChars(segs[len(segs)-1], false) {
		id := segs[len(segs)-1]
		return post(id, "https://www.facebook.com/"+first+"/"+segs[1]+"/"+id)
	}
	if allDigits(first) {
		return account(first)
	}
	// Facebook usernames ignore case and dots: john.doe is johndoe.
	handle := strings.ReplaceAll(first, ".", "")
	return rec(takedown.PlatformFacebook, takedown.KindAccount, "facebook:"+handle, "https://www.facebook.com/"+first, handle)
}

// --- Instagram ---

var instagramTracking = paramSet{names: []string{"igsh", "igshid", "img_index", "hl", "utm_source"}}

var instagramReserved = map[string]bool{
	"explore": true, "accounts": true, "direct": true, "about": true, "developer": true, "legal": true, "web": true,
	"emails": true, "challenge": true, "privacy": true, "terms": true, "session": true, "oauth": true, "static": true, "graphql": true,
	"p": true, "reel": true, "reels": true, "tv": true, "stories": true,
}

func instagram(p *parts) takedown.Recognition {
	segs := segments(p.path)
	page := func() takedown.Recognition {
		return platformPage(p, takedown.PlatformInstagram, "www.instagram.com", instagramTracking)
	}
	if len(segs) == 0 {
		return page()
	}
	first := strings.ToLower(segs[0])
	switch first {
	case "p", "reel", "reels", "tv":
		if len(segs) >= 2 && wordChars(strings.ReplaceAll(segs[1], "-", "_"), false) {
			return rec(takedown.PlatformInstagram, takedown.KindPost, "instagram:post:"+segs[1], "https://www.instagram.com/p/"+segs[1]+"/", "")
		}
		return page()
	case "stories":
		if len(segs) >= 3 && allDigits(segs[2]) && wordChars(segs[1], true) {
			name := strings.ToLower(segs[1])
			return rec(takedown.PlatformInstagram, takedown.KindPost, "instagram:story:"+segs[2], "https://www.instagram.com/stories/"+name+"/"+segs[2]+"/", name)
		}
		return page()
	}
	if instagramReserved[first] || len(first) > 30 || !wordChars(first, true) {
		return page()
	}
	if len(segs) >= 3 && (segs[1] == "p" || segs[1] == "reel") && idChars(segs[2]) {
		return rec(takedown.PlatformInstagram, takedown.KindPost, "instagram:post:"+segs[2], "https://www.instagram.com/p/"+segs[2]+"/", first)
	}
	return rec(takedown.PlatformInstagram, takedown.KindAccount, "instagram:"+first, "https://www.instagram.com/"+first+"/", first)
}

// --- YouTube ---

var youtubeTracking = paramSet{names: []string{"si", "feature", "pp", "t", "start", "ab_channel", "app", "list", "index", "pbjreload", "persist_app", "noapp", "cbrd", "ucbcb", "embeds_referring_euri", "embeds_referring_origin", "source_ve_path"}}

var youtubeReserved = map[string]bool{
	"results": true, "feed": true, "about": true, "account": true, "premium": true, "music": true, "kids": true,
	"gaming": true, "t": true, "howyoutubeworks": true, "creators": true, "ads": true, "signin": true, "logout": true,
	"upload": true, "redirect": true, "attribution_link": true, "playlist": true, "hashtag": true, "trending": true,
	"watch": true, "shorts": true, "embed": true, "live": true, "v": true, "channel": true, "c": true, "user": true, "s": true, "yt": true, "api": true, "iframe_api": true, "post": true,
}

func validVideoID(id string) bool {
	if len(id) != 11 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func youtube(p *parts) takedown.Recognition {
	segs := segments(p.path)
	page := func() takedown.Recognition {
		return platformPage(p, takedown.PlatformYouTube, "www.youtube.com", youtubeTracking)
	}
	video := func(id string) takedown.Recognition {
		return rec(takedown.PlatformYouTube, takedown.KindPost, "youtube:video:"+id, "https://www.youtube.com/watch?v="+id, "")
	}
	channel := func(identity, path, handle string) takedown.Recognition {
		return rec(takedown.PlatformYouTube, takedown.KindChannel, identity, "https://www.youtube.com/"+path, handle)
	}
	if p.host == "youtu.be" || p.host == "www.youtu.be" {
		if len(segs) >= 1 && validVideoID(segs[0]) {
			return video(segs[0])
		}
		return page()
	}
	if len(segs) == 0 {
		return page()
	}
	first := segs[0]
	switch {
	case first == "watch":
		if v := param(p.query, "v"); validVideoID(v) {
			return video(v)
		}
		return page()
	case first == "shorts" || first == "embed" || first == "live" || first == "v" || first == "e":
		if len(segs) >= 2 && validVideoID(segs[1]) {
			return video(segs[1])
		}
		return page()
	case first == "playlist":
		if l := param(p.query, "list"); wordChars(strings.ReplaceAll(l, "-", "_"), false) {
			return rec(takedown.PlatformYouTube, takedown.KindWebsite, "youtube:playlist:"+l, "https://www.youtube.com/playlist?list="+l, "")
		}
		return page()
	case strings.HasPrefix(first, "@") && len(first) > 1 && wordChars(strings.ReplaceAll(first[1:], "-", "_"), true):
		h := strings.ToLower(first[1:])
		return channel("youtube:@"+h, "@"+h, h)
	case first == "channel" && len(segs) >= 2 && strings.HasPrefix(segs[1], "UC") && len(segs[1]) == 24 && idChars(segs[1]):
		return channel("youtube:channel:"+segs[1], "channel/"+segs[1], segs[1])
	case (first == "c" || first == "user") && len(segs) >= 2 && wordChars(strings.ReplaceAll(segs[1], "-", "_"), true):
		h := strings.ToLower(segs[1])
		return channel("youtube:"+first+":"+h, first+"/"+h, h)
	}
	lower := strings.ToLower(first)
	if youtubeReserved[lower] || strings.Contains(first, ".") || !wordChars(strings.ReplaceAll(first, "-", "_"), false) {
		return page()
	}
	// A bare /NAME is a legacy custom URL, the same as /c/NAME.
	return channel("youtube:c:"+lower, "c/"+lower, lower)
}

// --- TikTok ---

var tiktokTracking = paramSet{names: []string{"is_from_webapp", "sender_device", "_r", "_t", "is_copy_url", "lang", "refer", "referer_url", "referer_video_id", "source", "u_code", "preview_pb", "share_app_id", "share_author_id", "share_link_id", "social_sharing", "timestamp", "tt_from", "user_id", "sec_uid", "checksum", "web_id", "_d", "embed_source", "q"}}

func tiktok(p *parts) takedown.Recognition {
	segs := segments(p.path)
	page := func() takedown.Recognition {
		return platformPage(p, takedown.PlatformTikTok, "www.tiktok.com", tiktokTracking)
	}
	if p.host == "vm.tiktok.com" || p.host == "vt.tiktok.com" {
		if len(segs) >= 1 && wordChars(segs[0], false) {
			return rec(takedown.PlatformTikTok, takedown.KindPost, "tiktok:short:"+segs[0], "https://"+p.host+"/"+segs[0]+"/", "")
		}
		return page()
	}
	if len(segs) == 0 || !strings.HasPrefix(segs[0], "@") || len(segs[0]) < 2 || !wordChars(segs[0][1:], true) {
		return page()
	}
	name := strings.ToLower(segs[0][1:])
	if len(segs) >= 3 && (segs[1] == "video" || segs[1] == "photo") && allDigits(segs[2]) {
		return rec(takedown.PlatformTikTok, takedown.KindPost, "tiktok:video:"+segs[2], "https://www.tiktok.com/@"+name+"/"+segs[1]+"/"+segs[2], name)
	}
	return rec(takedown.PlatformTikTok, takedown.KindAccount, "tiktok:"+name, "https://www.tiktok.com/@"+name, name)
}
