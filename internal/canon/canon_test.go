package canon

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/takedown-project/takedown"
)

// The canonicalisation examples published with the Safe Browsing API
// (v4, "URLs and hashing"), all of them.
func TestCanonicalizeSafeBrowsingExamples(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"http://host/%25%32%35", "http://host/%25"},
		{"http://host/%25%32%35%25%32%35", "http://host/%25%25"},
		{"http://host/%2525252525252525", "http://host/%25"},
		{"http://host/asdf%25%32%35asd", "http://host/asdf%25asd"},
		{"http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25"},
		{"http://www.google.com/", "http://www.google.com/"},
		{"http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/", "http://168.188.99.26/.secure/www.ebay.com/"},
		{"http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/", "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/"},
		{"http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B", "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+"},
		{"http://3279880203/blah", "http://195.127.0.11/blah"},
		{"http://www.google.com/blah/..", "http://www.google.com/"},
		{"www.google.com/", "http://www.google.com/"},
		{"www.google.com", "http://www.google.com/"},
		{"http://www.evil.com/blah#frag", "http://www.evil.com/blah"},
		{"http://www.GOOgle.com/", "http://www.google.com/"},
		{"http://www.google.com.../", "http://www.google.com/"},
		{"http://www.google.com/foo\tbar\rbaz\n2", "http://www.google.com/foobarbaz2"},
		{"http://www.google.com/q?", "http://www.google.com/q?"},
		{"http://www.google.com/q?r?", "http://www.google.com/q?r?"},
		{"http://www.google.com/q?r?s", "http://www.google.com/q?r?s"},
		{"http://evil.com/foo#bar#baz", "http://evil.com/foo"},
		{"http://evil.com/foo;", "http://evil.com/foo;"},
		{"http://evil.com/foo?bar;", "http://evil.com/foo?bar;"},
		{"http://\x01\x80.com/", "http://%01%80.com/"},
		{"http://notrailingslash.com", "http://notrailingslash.com/"},
		{"http://www.gotaport.com:1234/", "http://www.gotaport.com/"},
		{"  http://www.google.com/  ", "http://www.google.com/"},
		{"http:// leadingspace.com/", "http://%20leadingspace.com/"},
		{"http://%20leadingspace.com/", "http://%20leadingspace.com/"},
		{"%20leadingspace.com/", "http://%20leadingspace.com/"},
		{"https://www.securesite.com/", "https://www.securesite.com/"},
		{"http://host.com/ab%23cd", "http://host.com/ab%23cd"},
		{"http://host.com//twoslashes?more//slashes", "http://host.com/twoslashes?more//slashes"},
	}
	for _, tt := range tests {
		got, err := Canonicalize(tt.in)
		if err != nil {
			t.Errorf("Canonicalize(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Canonicalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// More of what the issue names: IPv4 notations, IDN, default ports, dot
// segments.
func TestCanonicalizeMore(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"http://0xc3.0x7f.0.11/", "http://195.127.0.11/"},
		{"http://0303.0177.0.013/", "http://195.127.0.11/"},
		{"http://195.127.11/", "http://195.127.0.11/"},
		{"http://0xC37F000B/", "http://195.127.0.11/"},
		{"http://bücher.example/", "http://xn--bcher-kva.example/"},
		{"http://xn--bcher-kva.example/", "http://xn--bcher-kva.example/"},
		{"http://BÜCHER.example/", "http://xn--bcher-kva.example/"},
		{"https://example.org:443/a/./b/../c", "https://example.org/a/c"},
		{"http://example.org:80//a///b/", "http://example.org/a/b/"},
		{"HTTP://Example.ORG/Path?Query=Case", "http://example.org/Path?Query=Case"},
		{"http://user:pass@example.org/", "http://example.org/"},
		{"http://example.org/a/../../..", "http://example.org/"},
	}
	for _, tt := range tests {
		got, err := Canonicalize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Canonicalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestRecognize(t *testing.T) {
	t.Parallel()
	const (
		tg = takedown.PlatformTelegram
		x  = takedown.PlatformX
		fb = takedown.PlatformFacebook
		ig = takedown.PlatformInstagram
		yt = takedown.PlatformYouTube
		tt = takedown.PlatformTikTok
		wb = takedown.PlatformWeb
	)
	r := func(identity, canonical string, p takedown.Platform, k takedown.Kind, handle string) takedown.Recognition {
		return takedown.Recognition{Identity: identity, Canonical: canonical, Platform: p, Kind: k, Handle: handle}
	}
	tests := []struct {
		in   string
		want takedown.Recognition
	}{
		// Telegram
		{"https://t.me/Example_Channel", r("telegram:example_channel", "https://t.me/example_channel", tg, takedown.KindChannel, "example_channel")},
		{"https://telegram.me/s/Example_Channel?utm_source=x", r("telegram:example_channel", "https://t.me/example_channel", tg, takedown.KindChannel, "example_channel")},
		{"t.me/example_channel", r("telegram:example_channel", "https://t.me/example_channel", tg, takedown.KindChannel, "example_channel")},
		{"http://www.telegram.dog/example_channel/", r("telegram:example_channel", "https://t.me/example_channel", tg, takedown.KindChannel, "example_channel")},
		{"https://t.me/example_channel/4512?single", r("telegram:example_channel/4512", "https://t.me/example_channel/4512", tg, takedown.KindPost, "example_channel")},
		{"https://t.me/s/Example_Channel/4512", r("telegram:example_channel/4512", "https://t.me/example_channel/4512", tg, takedown.KindPost, "example_channel")},
		{"https://t.me/joinchat/AbCdEfGh12345678", r("telegram:+AbCdEfGh12345678", "https://t.me/+AbCdEfGh12345678", tg, takedown.KindInvite, "")},
		{"https://t.me/+AbCdEfGh12345678", r("telegram:+AbCdEfGh12345678", "https://t.me/+AbCdEfGh12345678", tg, takedown.KindInvite, "")},
		{"https://t.me/c/1234567890/55", r("telegram:c/1234567890/55", "https://t.me/c/1234567890/55", tg, takedown.KindPost, "")},
		{"https://t.me/Example_Relay_Bot", r("telegram:example_relay_bot", "https://t.me/example_relay_bot", tg, takedown.KindAccount, "example_relay_bot")},
		{"tg://resolve?domain=Example_Channel", r("telegram:example_channel", "https://t.me/example_channel", tg, takedown.KindChannel, "example_channel")},
		{"https://t.me/addstickers/SomePack", r("telegram:page:t.me/addstickers/SomePack", "https://t.me/addstickers/SomePack", tg, takedown.KindWebsite, "")},
		{"https://t.me/", r("telegram:page:t.me/", "https://t.me/", tg, takedown.KindWebsite, "")},
		// Look-alikes are websites.
		{"https://t.me.evil.example/example_channel", r("web:t.me.evil.example/example_channel", "https://t.me.evil.example/example_channel", wb, takedown.KindWebsite, "")},
		{"https://evilt.me/example_channel", r("web:evilt.me/example_channel", "https://evilt.me/example_channel", wb, takedown.KindWebsite, "")},
		{"https://t.me-x.example/example_channel", r("web:t.me-x.example/example_channel", "https://t.me-x.example/example_channel", wb, takedown.KindWebsite, "")},
		{"https://t.me@evil.example/example_channel", r("web:evil.example/example_channel", "https://evil.example/example_channel", wb, takedown.KindWebsite, "")},
		{"https://x.com.example.org/someone", r("web:x.com.example.org/someone", "https://x.com.example.org/someone", wb, takedown.KindWebsite, "")},
		// X / Twitter
		{"https://x.com/Sample_Voice_01", r("x:sample_voice_01", "https://x.com/sample_voice_01", x, takedown.KindAccount, "sample_voice_01")},
		{"https://mobile.twitter.com/sample_voice_01?ref_src=twsrc", r("x:sample_voice_01", "https://x.com/sample_voice_01", x, takedown.KindAccount, "sample_voice_01")},
		{"https://twitter.com/Sample_Voice_01/status/1861000000000000001?s=20&t=abc", r("x:status:1861000000000000001", "https://x.com/sample_voice_01/status/1861000000000000001", x, takedown.KindPost, "sample_voice_01")},
		{"https://x.com/sample_voice_01/status/1861000000000000001/photo/1", r("x:status:1861000000000000001", "https://x.com/sample_voice_01/status/1861000000000000001", x, takedown.KindPost, "sample_voice_01")},
		{"https://x.com/i/web/status/1861000000000000001", r("x:status:1861000000000000001", "https://x.com/i/web/status/1861000000000000001", x, takedown.KindPost, "")},
		{"https://x.com/home", r("x:page:x.com/home", "https://x.com/home", x, takedown.KindWebsite, "")},
		{"https://twitter.com/search?q=example&s=20", r("x:page:x.com/search?q=example", "https://x.com/search?q=example", x, takedown.KindWebsite, "")},
		{"https://x.com/i/lists/123", r("x:page:x.com/i/lists/123", "https://x.com/i/lists/123", x, takedown.KindWebsite, "")},
		// Facebook
		{"https://www.facebook.com/John.Doe.Example", r("facebook:johndoeexample", "https://www.facebook.com/john.doe.example", fb, takedown.KindAccount, "johndoeexample")},
		{"https://m.facebook.com/johndoeexample?mibextid=abc", r("facebook:johndoeexample", "https://www.facebook.com/johndoeexample", fb, takedown.KindAccount, "johndoeexample")},
		{"https://www.facebook.com/profile.php?id=100000000000001&mibextid=abc", r("facebook:id:100000000000001", "https://www.facebook.com/profile.php?id=100000000000001", fb, takedown.KindAccount, "")},
		{"https://www.facebook.com/groups/consectetur.example.group", r("facebook:group:consecteturexamplegroup", "https://www.facebook.com/groups/consectetur.example.group", fb, takedown.KindGroup, "")},
		{"https://www.facebook.com/johndoeexample/posts/1234567890", r("facebook:post:1234567890", "https://www.facebook.com/johndoeexample/posts/1234567890", fb, takedown.KindPost, "")},
		{"https://www.facebook.com/watch/?v=987654321", r("facebook:post:987654321", "https://www.facebook.com/watch/?v=987654321", fb, takedown.KindPost, "")},
		{"https://www.facebook.com/help/12345", r("facebook:page:www.facebook.com/help/12345", "https://www.facebook.com/help/12345", fb, takedown.KindWebsite, "")},
		// Instagram
		{"https://www.instagram.com/lorem.ipsum.depot/?igshid=12345", r("instagram:lorem.ipsum.depot", "https://www.instagram.com/lorem.ipsum.depot/", ig, takedown.KindAccount, "lorem.ipsum.depot")},
		{"https://instagr.am/Lorem.Ipsum.Depot", r("instagram:lorem.ipsum.depot", "https://www.instagram.com/lorem.ipsum.depot/", ig, takedown.KindAccount, "lorem.ipsum.depot")},
		{"https://www.instagram.com/p/CxYz123AbC/?img_index=2", r("instagram:post:CxYz123AbC", "https://www.instagram.com/p/CxYz123AbC/", ig, takedown.KindPost, "")},
		{"https://www.instagram.com/reel/CxYz123AbC/", r("instagram:post:CxYz123AbC", "https://www.instagram.com/p/CxYz123AbC/", ig, takedown.KindPost, "")},
		{"https://www.instagram.com/explore/tags/x/", r("instagram:page:www.instagram.com/explore/tags/x/", "https://www.instagram.com/explore/tags/x/", ig, takedown.KindWebsite, "")},
		// YouTube
		{"https://www.youtube.com/@FillerMediaStudio", r("youtube:@fillermediastudio", "https://www.youtube.com/@fillermediastudio", yt, takedown.KindChannel, "fillermediastudio")},
		{"https://m.youtube.com/@fillermediastudio/videos?si=abc", r("youtube:@fillermediastudio", "https://www.youtube.com/@fillermediastudio", yt, takedown.KindChannel, "fillermediastudio")},
		{"https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv", r("youtube:channel:UCabcdefghijklmnopqrstuv", "https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv", yt, takedown.KindChannel, "UCabcdefghijklmnopqrstuv")},
		{"https://www.youtube.com/c/FillerMedia", r("youtube:c:fillermedia", "https://www.youtube.com/c/fillermedia", yt, takedown.KindChannel, "fillermedia")},
		{"https://www.youtube.com/FillerMedia", r("youtube:c:fillermedia", "https://www.youtube.com/c/fillermedia", yt, takedown.KindChannel, "fillermedia")},
		{"https://www.youtube.com/user/FillerMedia", r("youtube:user:fillermedia", "https://www.youtube.com/user/fillermedia", yt, takedown.KindChannel, "fillermedia")},
		{"https://www.youtube.com/watch?v=AbCdEfGhIjK&feature=share&t=42", r("youtube:video:AbCdEfGhIjK", "https://www.youtube.com/watch?v=AbCdEfGhIjK", yt, takedown.KindPost, "")},
		{"https://youtu.be/AbCdEfGhIjK?si=xyz123", r("youtube:video:AbCdEfGhIjK", "https://www.youtube.com/watch?v=AbCdEfGhIjK", yt, takedown.KindPost, "")},
		{"https://www.youtube.com/shorts/AbCdEfGhIjK", r("youtube:video:AbCdEfGhIjK", "https://www.youtube.com/watch?v=AbCdEfGhIjK", yt, takedown.KindPost, "")},
		{"https://www.youtube-nocookie.com/embed/AbCdEfGhIjK", r("youtube:video:AbCdEfGhIjK", "https://www.youtube.com/watch?v=AbCdEfGhIjK", yt, takedown.KindPost, "")},
		{"https://www.youtube.com/playlist?list=PLabc123", r("youtube:playlist:PLabc123", "https://www.youtube.com/playlist?list=PLabc123", yt, takedown.KindWebsite, "")},
		{"https://www.youtube.com/results?search_query=x", r("youtube:page:www.youtube.com/results?search_query=x", "https://www.youtube.com/results?search_query=x", yt, takedown.KindWebsite, "")},
		// TikTok
		{"https://www.tiktok.com/@Dolor_Sit_Amet", r("tiktok:dolor_sit_amet", "https://www.tiktok.com/@dolor_sit_amet", tt, takedown.KindAccount, "dolor_sit_amet")},
		{"https://www.tiktok.com/@dolor_sit_amet/video/7300000000000000001?is_from_webapp=1", r("tiktok:video:7300000000000000001", "https://www.tiktok.com/@dolor_sit_amet/video/7300000000000000001", tt, takedown.KindPost, "dolor_sit_amet")},
		{"https://vm.tiktok.com/ZMabc1234/", r("tiktok:short:ZMabc1234", "https://vm.tiktok.com/ZMabc1234/", tt, takedown.KindPost, "")},
		// Websites and files
		{"https://news-archive.example/2026/11/statement.html#top", r("web:news-archive.example/2026/11/statement.html", "https://news-archive.example/2026/11/statement.html", wb, takedown.KindWebsite, "")},
		{"http://www.news-archive.example/2026/11/statement.html?utm_campaign=x", r("web:news-archive.example/2026/11/statement.html", "http://www.news-archive.example/2026/11/statement.html", wb, takedown.KindWebsite, "")},
		{"http://files.mirror-example.test/releases/issue-12.PDF", r("web:files.mirror-example.test/releases/issue-12.PDF", "http://files.mirror-example.test/releases/issue-12.PDF", wb, takedown.KindFile, "")},
		{"https://example.org/?s=search+terms", r("web:example.org/?s=search+terms", "https://example.org/?s=search+terms", wb, takedown.KindWebsite, "")},
		{"https://example.org:8443/panel", r("web:example.org:8443/panel", "https://example.org:8443/panel", wb, takedown.KindWebsite, "")},
		{"https://bücher.example/", r("web:xn--bcher-kva.example/", "https://xn--bcher-kva.example/", wb, takedown.KindWebsite, "")},
		{"https://xn--bcher-kva.example/", r("web:xn--bcher-kva.example/", "https://xn--bcher-kva.example/", wb, takedown.KindWebsite, "")},
		{"http://3279880203/blah", r("web:195.127.0.11/blah", "http://195.127.0.11/blah", wb, takedown.KindWebsite, "")},
		{"http://[2001:db8::1]/x", r("web:[2001:db8::1]/x", "http://[2001:db8::1]/x", wb, takedown.KindWebsite, "")},
	}
	for _, tc := range tests {
		got, err := Recognize(tc.in)
		if err != nil {
			t.Errorf("Recognize(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Recognize(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
		// A canonical URL recognises as itself.
		again, err := Recognize(got.Canonical)
		if err != nil {
			t.Errorf("Recognize(canonical %q): %v", got.Canonical, err)
		} else if diff := cmp.Diff(got, again); diff != "" {
			t.Errorf("Recognize(canonical %q) differs from Recognize(%q) (-first +again):\n%s", got.Canonical, tc.in, diff)
		}
	}
}

func TestRecognizeRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "   ", "hello world", "not a url at all", "ftp://old-host.example/file", "mailto:someone@example.org",
		"javascript:alert(1)", "http://localhost/", "http:///path", "::not a url::", "http://exa mple.org/",
		"http://-bad-.example/", "http://example.123/", "tg://msg?text=x", "http://\x01\x80.com/", "@example_channel",
	} {
		if r, err := Recognize(in); err == nil {
			t.Errorf("Recognize(%q) = %+v, want an error", in, r)
		} else if takedown.ErrorCode(err) != takedown.EINVALID {
			t.Errorf("Recognize(%q) error code %q, want %q", in, takedown.ErrorCode(err), takedown.EINVALID)
		}
	}
}
