package simnet

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/takedown-project/takedown/internal/simnet/synth"
)

// Kinds of entities, as takedown names kinds of items.
const (
	KindChannel = "channel"
	KindGroup   = "group"
	KindAccount = "account"
	KindPost    = "post"
	KindInvite  = "invite"
	KindFile    = "file"
	KindWebsite = "website"
)

// Entity is one thing of the simulated internet that an agency can find
// and a provider can remove: a channel, group, account, post, invite, file
// or web page. Entities never change after creation except through the
// World's state (removals, blocks), which the World guards.
type Entity struct {
	ID       int
	Platform string // Telegram, X, YouTube, FileHost, WebHost
	Kind     string
	Outlet   *Outlet
	// Handle is a channel's, group's or account's name as its owner
	// wrote it; a post's is its container's.
	Handle string
	// Parent is a post's channel or account, a web page's site root.
	Parent *Entity
	// Number is a Telegram post's number in its channel.
	Number int
	// Code is an X status ID, a YouTube video ID, a YouTube channel's
	// UC... ID, a file's ID or an invite's hash.
	Code string
	Host string // files and web pages
	Path string // files and web pages, with its leading slash
	// URL is the entity's address in its most common form.
	URL string

	Title       string
	Description string
	Language    string
	// PostCount is how many posts a channel or account has published
	// (post entities are some of them).
	PostCount int
	// Subscribers is shown on channel and account pages.
	Subscribers int

	// Created is when the entity appeared: before the scenario for the
	// network, after a removal for a successor.
	Created time.Time
	// Predecessor is the removed entity a successor replaces, and
	// Generation how many removals separate it from the original.
	Predecessor *Entity
	Generation  int
	// Mutations say how a successor differs from its predecessor (handle,
	// title, avatar, texts), for the ground truth.
	Mutations []string
	// avatarMutation, when not zero, seeds the avatar's variation of the
	// predecessor's.
	avatarMutation uint64

	postsOnce sync.Once
	posts     []post
	// items are the post entities of a container, by number (Telegram)
	// or code (X, YouTube).
	items map[string]*Entity
}

// post is one message of a channel or account page.
type post struct {
	number  int
	code    string
	text    string
	picture uint64 // seed of an image in the post; 0 for none
	at      time.Time
}

// IsContainer reports whether e is a channel, group or account: what an
// adversary re-creates and what has posts.
func (e *Entity) IsContainer() bool {
	return e.Kind == KindChannel || e.Kind == KindGroup || e.Kind == KindAccount
}

// Outlet is one media brand of the network: a logo, languages, and the
// links its posts spread.
type Outlet struct {
	ID        int
	Brand     string
	Languages []string
	LogoSeed  uint64
	// Site is the outlet's web site root, if it has one.
	Sites []*Entity
	// Links are the outbound links its posts carry: its web pages, files,
	// invites and videos. Successors post the same links.
	Links []string
}

// World is the generated network and everything that happens to it.
type World struct {
	Scenario *Scenario
	Seed     uint64
	Outlets  []*Outlet
	// Entities are the network as generated, in ID order; successors are
	// added to the index, not here.
	Entities []*Entity

	mu     sync.RWMutex
	index  map[string]*Entity // lookup key -> entity, see lookupKey
	state  map[int]*entityState
	nextID int
	// successors in creation order, for the ground truth.
	successors []*Entity
	// announcements are posts by an outlet's channels pointing to a new
	// successor, by outlet ID.
	announcements map[int][]announcement
}

// announcement is a post that points followers to a successor.
type announcement struct {
	at        time.Time
	successor *Entity
}

// lookupKey names an entity in the index: platform, a namespace and a
// key as the platform compares it.
func lookupKey(platform, ns, k string) string { return platform + "\x00" + ns + "\x00" + k }

// Generate builds the world of a scenario. It is deterministic: the same
// scenario gives the same world.
func Generate(s *Scenario) (*World, error) {
	w := &World{Scenario: s, Seed: s.Seed, index: map[string]*Entity{}, state: map[int]*entityState{}, announcements: map[int][]announcement{}}
	counts := kindCounts(s.Network.Items, s.Network.Mix)
	r := rng(s.Seed, "world")
	w.makeOutlets(r, s.Network.Outlets)
	gen := &generator{w: w, r: r, s: s}
	// Order matters for determinism only; containers first, so posts and
	// invites have somewhere to live, and links before the posts that
	// carry them.
	gen.websites(counts[MixWebsite])
	gen.files(counts[MixFile])
	gen.containers(Telegram, KindChannel, counts[MixTelegramChannel], counts[MixTelegramPost] > 0)
	gen.containers(Telegram, KindGroup, counts[MixTelegramGroup], false)
	gen.invites(counts[MixTelegramInvite])
	gen.containers(X, KindAccount, counts[MixXAccount], counts[MixXPost] > 0)
	gen.containers(YouTube, KindChannel, counts[MixYouTubeChannel], counts[MixYouTubeVideo] > 0)
	gen.videos(counts[MixYouTubeVideo])
	gen.telegramPosts(counts[MixTelegramPost])
	gen.xPosts(counts[MixXPost])
	if len(w.Entities) == 0 {
		return nil, fmt.Errorf("scenario %s: the network has no items", s.Name)
	}
	w.nextID = len(w.Entities)
	return w, nil
}

// kindCounts shares items among kinds by the mix, rounding so that the
// counts add up to items.
func kindCounts(items int, mix map[string]float64) map[string]int {
	keys := make([]string, 0, len(mix))
	total := 0.0
	for k, v := range mix {
		keys = append(keys, k)
		total += v
	}
	slices.Sort(keys)
	out := map[string]int{}
	given := 0
	for _, k := range keys {
		out[k] = int(float64(items) * mix[k] / total)
		given += out[k]
	}
	// The remainder goes to the largest shares, one each.
	slices.SortStableFunc(keys, func(a, b string) int {
		switch {
		case mix[a] > mix[b]:
			return -1
		case mix[a] < mix[b]:
			return 1
		}
		return 0
	})
	for i := 0; given < items; i++ {
		if mix[keys[i%len(keys)]] > 0 {
			out[keys[i%len(keys)]]++
			given++
		}
	}
	return out
}

func (w *World) makeOutlets(r *rand.Rand, n int) {
	langs := w.Scenario.Network.Languages
	used := map[string]bool{}
	for i := 0; i < n; i++ {
		brand := synth.BrandName(r)
		for used[strings.ToLower(brand)] {
			brand = synth.BrandName(r)
		}
		used[strings.ToLower(brand)] = true
		o := &Outlet{ID: i, Brand: brand, LogoSeed: r.Uint64() | 1}
		o.Languages = []string{langs[r.IntN(len(langs))]}
		if r.IntN(3) == 0 {
			if l := langs[r.IntN(len(langs))]; l != o.Languages[0] {
				o.Languages = append(o.Languages, l)
			}
		}
		w.Outlets = append(w.Outlets, o)
	}
}

// generator holds what generation needs along the way.
type generator struct {
	w *World
	r *rand.Rand
	s *Scenario
	// byPlatform holds the channels and accounts of each platform, for
	// posts to live in.
	byPlatform map[string][]*Entity
}

func (g *generator) add(e *Entity) {
	e.ID = len(g.w.Entities)
	if e.Created.IsZero() {
		e.Created = g.s.Start.Add(-time.Duration(1+g.r.IntN(400*24)) * time.Hour)
	}
	g.w.Entities = append(g.w.Entities, e)
	g.w.register(e)
}

// register makes e findable by the addresses it answers to.
func (w *World) register(e *Entity) {
	switch {
	case e.Platform == Telegram && e.IsContainer():
		w.index[lookupKey(Telegram, "name", strings.ToLower(e.Handle))] = e
	case e.Platform == Telegram && e.Kind == KindInvite:
		w.index[lookupKey(Telegram, "invite", e.Code)] = e
	case e.Platform == X && e.Kind == KindAccount:
		w.index[lookupKey(X, "name", strings.ToLower(e.Handle))] = e
	case e.Platform == X && e.Kind == KindPost:
		w.index[lookupKey(X, "status", e.Code)] = e
	case e.Platform == YouTube && e.Kind == KindChannel:
		w.index[lookupKey(YouTube, "handle", strings.ToLower(e.Handle))] = e
		w.index[lookupKey(YouTube, "channel", e.Code)] = e
	case e.Platform == YouTube && e.Kind == KindPost:
		w.index[lookupKey(YouTube, "video", e.Code)] = e
	case e.Platform == FileHost:
		w.index[lookupKey(FileHost, e.Host, e.Code)] = e
	case e.Platform == WebHost:
		w.index[lookupKey(WebHost, e.Host, e.Path)] = e
	}
	if e.Kind == KindPost && e.Parent != nil {
		if e.Parent.items == nil {
			e.Parent.items = map[string]*Entity{}
		}
		k := e.Code
		if e.Platform == Telegram {
			k = strconv.Itoa(e.Number)
		}
		e.Parent.items[k] = e
	}
}

// lookup returns the entity under a key, and whether there is one.
func (w *World) lookup(platform, ns, k string) (*Entity, bool) {
	w.mu.RLock()
	e, ok := w.index[lookupKey(platform, ns, k)]
	w.mu.RUnlock()
	return e, ok
}

// taken reports whether a container handle is in use on a platform.
func (w *World) taken(platform, handle string) bool {
	ns := "name"
	if platform == YouTube {
		ns = "handle"
	}
	_, ok := w.index[lookupKey(platform, ns, strings.ToLower(handle))]
	return ok
}

func (g *generator) outlet() *Outlet { return g.w.Outlets[g.r.IntN(len(g.w.Outlets))] }

func (g *generator) language(o *Outlet) string { return o.Languages[g.r.IntN(len(o.Languages))] }

// websites makes n web pages on the outlets' sites: each outlet with pages
// has one or two sites under .example, whose roots are pages too.
func (g *generator) websites(n int) {
	for n > 0 {
		o := g.outlet()
		label := synth.Handle(g.r, o.Brand, "web")
		host := label + ".example"
		for g.w.index[lookupKey(WebHost, host, "/")] != nil {
			host = label + "-" + strconv.Itoa(g.r.IntN(1000)) + ".example"
		}
		lang := g.language(o)
		root := &Entity{Platform: WebHost, Kind: KindWebsite, Outlet: o, Host: host, Path: "/", Language: lang,
			Title: synth.Title(g.r, o.Brand, lang), Description: synth.Description(g.r, lang)}
		root.URL = "https://" + host + "/"
		g.add(root)
		o.Sites = append(o.Sites, root)
		o.Links = append(o.Links, root.URL)
		n--
		pages := min(n, 1+g.r.IntN(60))
		for i := 0; i < pages; i++ {
			path := fmt.Sprintf("/%d/%02d/%s-%d.html", 2025+g.r.IntN(2), 1+g.r.IntN(12), strings.ToLower(synth.Handle(g.r, o.Brand, "web")), g.r.IntN(100000))
			if g.w.index[lookupKey(WebHost, host, path)] != nil {
				continue
			}
			p := &Entity{Platform: WebHost, Kind: KindWebsite, Outlet: o, Parent: root, Host: host, Path: path, Language: lang,
				Title: synth.Title(g.r, o.Brand, lang), Description: synth.Description(g.r, lang)}
			p.URL = "https://" + host + path
			g.add(p)
			if g.r.IntN(4) == 0 {
				o.Links = append(o.Links, p.URL)
			}
			n--
		}
	}
}

var fileExtensions = []string{"pdf", "pdf", "pdf", "mp4", "mp4", "zip", "mp3", "epub"}

// files makes n files on the file hosts.
func (g *generator) files(n int) {
	hosts := g.s.Network.FileHosts
	for i := 0; i < n; i++ {
		o := g.outlet()
		host := hosts[g.r.IntN(len(hosts))]
		code := randomCode(g.r, 10)
		for g.w.index[lookupKey(FileHost, host, code)] != nil {
			code = randomCode(g.r, 10)
		}
		ext := fileExtensions[g.r.IntN(len(fileExtensions))]
		name := strings.ToLower(synth.Handle(g.r, o.Brand, "web")) + "-" + strconv.Itoa(1+g.r.IntN(300)) + "." + ext
		lang := g.language(o)
		f := &Entity{Platform: FileHost, Kind: KindFile, Outlet: o, Host: host, Code: code, Path: "/f/" + code + "/" + name, Language: lang,
			Title: name, Description: synth.Description(g.r, lang)}
		f.URL = "https://" + host + f.Path
		g.add(f)
		if g.r.IntN(2) == 0 {
			o.Links = append(o.Links, f.URL)
		}
	}
}

// containers makes n channels, groups or accounts; needed says that posts
// will need at least one.
func (g *generator) containers(platform, kind string, n int, needed bool) {
	if n == 0 && needed {
		n = 1
	}
	if g.byPlatform == nil {
		g.byPlatform = map[string][]*Entity{}
	}
	for i := 0; i < n; i++ {
		o := g.outlet()
		handle := synth.Handle(g.r, o.Brand, platform)
		for tries := 0; g.w.taken(platform, handle); tries++ {
			handle, _ = synth.MutateHandle(g.r, handle, platform)
		}
		lang := g.language(o)
		e := &Entity{Platform: platform, Kind: kind, Outlet: o, Handle: handle, Language: lang,
			Title: synth.Title(g.r, o.Brand, lang), Description: synth.Description(g.r, lang),
			Subscribers: subscribers(g.r)}
		switch platform {
		case Telegram:
			e.URL = "https://t.me/" + handle
		case X:
			e.URL = "https://x.com/" + handle
		case YouTube:
			e.Code = "UC" + randomCode(g.r, 22)
			e.URL = "https://www.youtube.com/@" + handle
		}
		e.PostCount = 5 + g.r.IntN(60)
		g.add(e)
		if kind != KindGroup {
			g.byPlatform[platform] = append(g.byPlatform[platform], e)
		}
	}
}

func subscribers(r *rand.Rand) int {
	// Heavy-tailed: most channels are small, a few are large.
	return int(50 * (1 + r.ExpFloat64()*r.ExpFloat64()*40))
}

// invites makes n invite links to private groups and channels.
func (g *generator) invites(n int) {
	for i := 0; i < n; i++ {
		o := g.outlet()
		code := randomCode(g.r, 16)
		lang := g.language(o)
		e := &Entity{Platform: Telegram, Kind: KindInvite, Outlet: o, Code: code, Language: lang,
			Title: synth.Title(g.r, o.Brand, lang), Description: synth.Description(g.r, lang), Subscribers: subscribers(g.r)}
		e.URL = "https://t.me/+" + code
		g.add(e)
		o.Links = append(o.Links, e.URL)
	}
}

// videos makes n videos on the video site's channels.
func (g *generator) videos(n int) {
	chans := g.byPlatform[YouTube]
	for i := 0; i < n; i++ {
		c := chans[g.r.IntN(len(chans))]
		code := randomCode(g.r, 11)
		for g.w.index[lookupKey(YouTube, "video", code)] != nil {
			code = randomCode(g.r, 11)
		}
		e := &Entity{Platform: YouTube, Kind: KindPost, Outlet: c.Outlet, Parent: c, Handle: c.Handle, Code: code, Language: c.Language,
			Title: synth.Title(g.r, c.Outlet.Brand, c.Language), Description: synth.Description(g.r, c.Language)}
		e.URL = "https://www.youtube.com/watch?v=" + code
		g.add(e)
		c.PostCount++
		if g.r.IntN(3) == 0 {
			c.Outlet.Links = append(c.Outlet.Links, e.URL)
		}
	}
}

// telegramPosts makes n posts in the channels, numbered as the channel
// service numbers them.
func (g *generator) telegramPosts(n int) {
	chans := g.byPlatform[Telegram]
	for i := 0; i < n; i++ {
		c := chans[g.r.IntN(len(chans))]
		// Posts that agencies found are spread over the channel's history.
		c.PostCount += 1 + g.r.IntN(3)
		num := c.PostCount
		e := &Entity{Platform: Telegram, Kind: KindPost, Outlet: c.Outlet, Parent: c, Handle: c.Handle, Number: num, Language: c.Language}
		e.URL = "https://t.me/" + c.Handle + "/" + strconv.Itoa(num)
		g.add(e)
	}
}

// xPosts makes n posts of the microblog's accounts.
func (g *generator) xPosts(n int) {
	accts := g.byPlatform[X]
	for i := 0; i < n; i++ {
		a := accts[g.r.IntN(len(accts))]
		code := strconv.FormatUint(1850000000000000000+g.r.Uint64N(20000000000000000), 10)
		for g.w.index[lookupKey(X, "status", code)] != nil {
			code = strconv.FormatUint(1850000000000000000+g.r.Uint64N(20000000000000000), 10)
		}
		e := &Entity{Platform: X, Kind: KindPost, Outlet: a.Outlet, Parent: a, Handle: a.Handle, Code: code, Language: a.Language}
		e.URL = "https://x.com/" + a.Handle + "/status/" + code
		g.add(e)
		a.PostCount++
	}
}

const codeChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

// randomCode returns n characters of platform IDs; it never starts with
// '-' or '_', which some recognisers read as separators.
func randomCode(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		set := codeChars
		if i == 0 {
			set = codeChars[:62]
		}
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}

// posts returns a container's recent posts, oldest first, or a post
// entity's own one, as of now: announcements of successors appear on the
// outlet's other channels when the successors are made.
func (w *World) posts(e *Entity, now time.Time) []post {
	e.postsOnce.Do(func() { e.posts = w.makePosts(e) })
	if !e.IsContainer() {
		return e.posts
	}
	w.mu.RLock()
	anns := w.announcements[e.Outlet.ID]
	w.mu.RUnlock()
	out, extra := e.posts, 0
	for _, a := range anns {
		if a.at.After(now) || a.at.Before(e.Created) || a.successor == e {
			continue
		}
		if extra == 0 {
			out = slices.Clip(out) // append copies: e.posts is shared
		}
		extra++
		out = append(out, post{number: e.PostCount + extra, code: strconv.FormatInt(a.at.UnixMilli(), 10), text: announcementText(a.successor), at: a.at})
	}
	return out
}

// announcementText is how a channel points its followers to a successor.
func announcementText(s *Entity) string {
	return "→ " + s.URL
}

// recentPosts is how many posts a channel page shows.
const recentPosts = 20

// makePosts generates a container's recent posts, or a post's own text.
// Successors repost their predecessor's texts with small edits and the
// same links and pictures.
func (w *World) makePosts(e *Entity) []post {
	if e.Kind == KindPost {
		return []post{w.postOf(e.Parent, e.Number, e.Code)}
	}
	if !e.IsContainer() {
		return nil
	}
	var out []post
	switch e.Platform {
	case Telegram:
		for n := max(1, e.PostCount-recentPosts+1); n <= e.PostCount; n++ {
			out = append(out, post{number: n})
		}
	default:
		// The posts that are items first, then made-up ones.
		codes := make([]string, 0, len(e.items))
		for c := range e.items {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		r := rng(w.Seed, "post-codes", uint64(e.ID))
		for len(codes) < min(e.PostCount, recentPosts) {
			if e.Platform == YouTube {
				codes = append(codes, randomCode(r, 11))
			} else {
				codes = append(codes, strconv.FormatUint(1850000000000000000+r.Uint64N(20000000000000000), 10))
			}
		}
		for i, c := range codes {
			if i == recentPosts {
				break
			}
			out = append(out, post{code: c})
		}
	}
	if e.Predecessor == nil {
		for i := range out {
			out[i] = w.postOf(e, out[i].number, out[i].code)
		}
		return out
	}
	old := w.posts(e.Predecessor, e.Created)
	r := rng(w.Seed, "repost", uint64(e.ID))
	for i := range out {
		src := old[i%len(old)]
		out[i].text, _ = synth.EditText(r, src.text)
		out[i].picture = src.picture
		out[i].at = e.Created.Add(time.Duration(i+1) * time.Duration(5+r.IntN(90)) * time.Minute)
	}
	return out
}

// postOf generates post number n (or code) of container c, the same way
// for its channel page and its own page.
func (w *World) postOf(c *Entity, n int, code string) post {
	r := rng(w.Seed, "post", uint64(c.ID), uint64(n), fnv64(code))
	links := c.Outlet.Links
	var chosen []string
	for k := r.IntN(3); k > 0 && len(links) > 0; k-- {
		chosen = append(chosen, links[r.IntN(len(links))])
	}
	p := post{number: n, code: code, text: synth.PostText(r, c.Language, chosen)}
	p.at = c.Created.Add(time.Duration(max(n, 1)) * time.Duration(1+r.IntN(40)) * time.Hour)
	if r.IntN(3) == 0 {
		p.picture = r.Uint64() | 1
	}
	return p
}
