package simnet

import (
	"image"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/takedown-project/takedown/internal/simnet/avatar"
)

// mediaCache keeps encoded images: generating and encoding one costs about
// a millisecond, and a prober or a crawler asks for the same avatars
// again and again. Bounded, so a long run cannot grow it without end.
type mediaCache struct {
	mu    sync.Mutex
	items map[string][]byte
}

const mediaCacheSize = 4096

func (c *mediaCache) get(k string, make func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	b, ok := c.items[k]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := make()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.items == nil || len(c.items) >= mediaCacheSize {
		c.items = map[string][]byte{} // dropping all is simple and rare
	}
	c.items[k] = b
	c.mu.Unlock()
	return b, nil
}

// avatarImage returns an entity's avatar: its outlet's logo, and for a
// successor its predecessor's avatar varied the way the adversary varies
// it (re-encoded, resized, cropped, recoloured).
func (w *World) avatarImage(e *Entity) image.Image {
	if e.Predecessor == nil {
		return avatar.Logo(e.Outlet.LogoSeed)
	}
	img, _, err := avatar.Mutate(w.avatarImage(e.Predecessor), e.avatarMutation)
	if err != nil {
		// Only images too large for JPEG fail; avatars never are.
		panic("simnet: avatar variant: " + err.Error())
	}
	return img
}

// media serves /_media/avatar/ID.jpg (or .png) and
// /_media/picture/SEED.jpg on every simulated host, as the platforms'
// image servers do. Removed entities' avatars are gone with them.
func (s *Server) media(w http.ResponseWriter, r *http.Request, path string, now time.Time) {
	kind, file, _ := strings.Cut(strings.TrimPrefix(path, "/_media/"), "/")
	name, ext, _ := strings.Cut(file, ".")
	format, ctype := "jpeg", "image/jpeg"
	switch ext {
	case "jpg":
	case "png":
		format, ctype = "png", "image/png"
	default:
		http.NotFound(w, r)
		return
	}
	var key string
	var make func() ([]byte, error)
	switch kind {
	case "avatar":
		id, err := strconv.Atoi(name)
		e := s.world.entityByID(id)
		if err != nil || e == nil || s.world.Status(e, now, s.region(r)) != StatusLive {
			http.NotFound(w, r)
			return
		}
		key, make = "a"+file, func() ([]byte, error) { return avatar.Encode(s.world.avatarImage(e), format, 85) }
	case "picture":
		seed, err := strconv.ParseUint(name, 16, 64)
		if err != nil || seed == 0 {
			http.NotFound(w, r)
			return
		}
		key, make = "p"+file, func() ([]byte, error) { return avatar.Encode(avatar.Picture(seed, 640, 400), format, 80) }
	default:
		http.NotFound(w, r)
		return
	}
	b, err := s.images.get(key, make)
	if err != nil {
		http.Error(w, "cannot encode image", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// entityByID returns an entity of the network or a successor, or nil.
func (w *World) entityByID(id int) *Entity {
	if id >= 0 && id < len(w.Entities) {
		return w.Entities[id]
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, s := range w.successors {
		if s.ID == id {
			return s
		}
	}
	return nil
}
