package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/takedown-project/takedown"
)

// BlobStore keeps files under their SHA-256: what is stored cannot change
// without its name changing, and the same file is kept once. The
// filesystem is the default; an object store can stand in for scale-out,
// where every process must reach every capture.
type BlobStore interface {
	// Create starts a blob; its content is hashed as it is written.
	Create(ctx context.Context) (BlobWriter, error)
	// Open reads a blob by the location Commit gave.
	Open(ctx context.Context, location string) (io.ReadCloser, error)
}

// BlobWriter is a blob being written.
type BlobWriter interface {
	io.Writer
	// Commit stores the blob under its hash and says where it is.
	Commit() (Blob, error)
	// Abort drops it; after Commit it does nothing.
	Abort()
}

// Blob is a stored file.
type Blob struct {
	SHA256   string
	Size     int64
	Location string
}

// FSStore keeps blobs in a folder: ab/abcdef....warc.gz, written to a
// temporary file first and renamed into place, so that a blob is either
// whole or absent.
type FSStore struct {
	Root string
	// Suffix ends every blob's name (".warc.gz").
	Suffix string
}

// NewFSStore opens (making it if need be) a blob folder.
func NewFSStore(root string) (*FSStore, error) {
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("evidence store %s: %w", root, err)
	}
	return &FSStore{Root: root, Suffix: ".warc.gz"}, nil
}

type fsWriter struct {
	s    *FSStore
	f    *os.File
	h    hash.Hash
	n    int64
	done bool
}

func (s *FSStore) Create(context.Context) (BlobWriter, error) {
	f, err := os.CreateTemp(filepath.Join(s.Root, "tmp"), "blob-*")
	if err != nil {
		return nil, fmt.Errorf("evidence store: %w", err)
	}
	return &fsWriter{s: s, f: f, h: sha256.New()}, nil
}

func (w *fsWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

func (w *fsWriter) Commit() (Blob, error) {
	if w.done {
		return Blob{}, errors.New("evidence store: blob committed twice")
	}
	w.done = true
	sum := hex.EncodeToString(w.h.Sum(nil))
	loc := sum[:2] + "/" + sum + w.s.Suffix
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		os.Remove(w.f.Name())
		return Blob{}, fmt.Errorf("evidence store: %w", err)
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.f.Name())
		return Blob{}, fmt.Errorf("evidence store: %w", err)
	}
	dst := filepath.Join(w.s.Root, filepath.FromSlash(loc))
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		os.Remove(w.f.Name())
		return Blob{}, fmt.Errorf("evidence store: %w", err)
	}
	if err := os.Chmod(w.f.Name(), 0o440); err != nil {
		os.Remove(w.f.Name())
		return Blob{}, fmt.Errorf("evidence store: %w", err)
	}
	if err := os.Rename(w.f.Name(), dst); err != nil {
		os.Remove(w.f.Name())
		return Blob{}, fmt.Errorf("evidence store: %w", err)
	}
	return Blob{SHA256: sum, Size: w.n, Location: loc}, nil
}

func (w *fsWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}

var locationPattern = regexp.MustCompile(`^[0-9a-f]{2}/[0-9a-f]{64}\.[a-z.]+$`)

func (s *FSStore) Open(_ context.Context, location string) (io.ReadCloser, error) {
	if !locationPattern.MatchString(location) || !strings.HasPrefix(location[3:], location[:2]) {
		return nil, takedown.Errorf(takedown.EINVALID, "%q is no location in the evidence store", location)
	}
	f, err := os.Open(filepath.Join(s.Root, filepath.FromSlash(location)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "the evidence store has no %s", location)
	}
	return f, err
}
