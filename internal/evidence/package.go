package evidence

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
)

// An evidence package is a folder anyone can check without takedown's
// database:
//
//	manifest.json, manifest.csv   every other file with its SHA-256 and size
//	warc/SHA256.warc.gz           the captures, named by their hash
//	items/ID.json                 each item: submissions, verification,
//	                              probes, captures, referral trail
//	audit.jsonl                   the audit events that concern the items
//
// Verify checks every file against the manifest, that no file was added
// or removed, that every capture's file is there under its hash, and
// that every audit event carries the hash its content gives; against the
// chain itself when the database is at hand.

// PackageFormat names the layout.
const PackageFormat = "takedown-evidence/1"

// Manifest lists a package's files.
type Manifest struct {
	Format    string         `json:"format"`
	CreatedAt time.Time      `json:"created_at"`
	Operation string         `json:"operation"`
	Items     []int64        `json:"items"`
	Files     []ManifestFile `json:"files"`
}

// ManifestFile is one file of a package, by its path in the package.
type ManifestFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// ItemRecord is what a package says of one item.
type ItemRecord struct {
	Item         *takedown.Item         `json:"item"`
	Verification *takedown.Verification `json:"verification"`
	Observations []takedown.Observation `json:"observations"`
	Captures     []*takedown.Capture    `json:"captures"`
	Referrals    []*takedown.Referral   `json:"referrals"`
}

// Export writes a package of items to dir, which must not exist or be
// empty: their records, the WARC files of their captures (read from the
// blob store and checked against their hash on the way) and the audit
// events. It returns the manifest it wrote.
func Export(ctx context.Context, dir, operation string, items []ItemRecord, events []*takedown.AuditEvent, blobs BlobStore, now time.Time) (*Manifest, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, takedown.Errorf(takedown.EINVALID, "%s is not empty: an evidence package is written to a new folder", dir)
	}
	for _, sub := range []string{"warc", "items"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			return nil, err
		}
	}
	m := &Manifest{Format: PackageFormat, CreatedAt: now.UTC(), Operation: operation, Files: []ManifestFile{}}
	add := func(rel string, write func(w io.Writer) error) error {
		f, err := os.OpenFile(filepath.Join(dir, filepath.FromSlash(rel)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
		if err != nil {
			return err
		}
		h := sha256.New()
		cw := &countWriter{w: io.MultiWriter(f, h)}
		if err := write(cw); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", rel, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
		m.Files = append(m.Files, ManifestFile{Path: rel, SHA256: hex.EncodeToString(h.Sum(nil)), Size: cw.n})
		return nil
	}
	seen := map[string]bool{}
	for _, it := range items {
		m.Items = append(m.Items, it.Item.ID)
		for _, c := range it.Captures {
			if c.SHA256 == "" || seen[c.SHA256] {
				continue
			}
			seen[c.SHA256] = true
			rel := "warc/" + c.SHA256 + ".warc.gz"
			err := add(rel, func(w io.Writer) error {
				r, err := blobs.Open(ctx, c.Location)
				if err != nil {
					return err
				}
				defer r.Close()
				h := sha256.New()
				if _, err := io.Copy(io.MultiWriter(w, h), r); err != nil {
					return err
				}
				if got := hex.EncodeToString(h.Sum(nil)); got != c.SHA256 {
					return fmt.Errorf("the evidence store's file has SHA-256 %s, the capture recorded %s: the store was altered", got, c.SHA256)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		err := add("items/"+strconv.FormatInt(it.Item.ID, 10)+".json", func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(it)
		})
		if err != nil {
			return nil, err
		}
	}
	err := add("audit.jsonl", func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, e := range events {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o640); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, "manifest.csv"))
	if err != nil {
		return nil, err
	}
	cw := csv.NewWriter(f)
	cw.Write([]string{"path", "sha256", "size"})
	for _, mf := range m.Files {
		cw.Write([]string{mf.Path, mf.SHA256, strconv.FormatInt(mf.Size, 10)})
	}
	cw.Flush()
	if err := errors.Join(cw.Error(), f.Close()); err != nil {
		return nil, err
	}
	return m, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Report is what Verify checked and found.
type Report struct {
	Files    int
	Events   int
	Captures int
	// ChainChecked: the events were compared with the chain itself.
	ChainChecked bool
	Problems     []string
}

// OK says nothing was wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// ChainEvent returns the chain's event of a sequence number, to compare
// a package's events with; nil when verifying without the database.
type ChainEvent func(ctx context.Context, seq int64) (*takedown.AuditEvent, error)

// Verify checks a package. An error is returned only when the package
// cannot be read at all; what is wrong with it is in the report.
func Verify(ctx context.Context, dir string, chain ChainEvent) (*Report, error) {
	r := &Report{}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, takedown.Errorf(takedown.EINVALID, "%s is no evidence package: %v", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil || m.Format != PackageFormat {
		return nil, takedown.Errorf(takedown.EINVALID, "%s/manifest.json is not a %s manifest", dir, PackageFormat)
	}
	listed := map[string]ManifestFile{}
	for _, f := range m.Files {
		if !fs.ValidPath(f.Path) || strings.HasPrefix(f.Path, "manifest.") {
			r.problem("the manifest lists %q, which is no file of a package", f.Path)
			continue
		}
		listed[f.Path] = f
	}
	// The CSV manifest says the same.
	if rows, err := readCSVManifest(filepath.Join(dir, "manifest.csv")); err != nil {
		r.problem("manifest.csv: %v", err)
	} else if !slices.Equal(rows, m.Files) {
		r.problem("manifest.csv and manifest.json do not list the same files")
	}
	// Every listed file, whole.
	for _, f := range m.Files {
		r.Files++
		sum, size, err := hashFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			r.problem("%s is missing", f.Path)
		case err != nil:
			r.problem("%s: %v", f.Path, err)
		case sum != f.SHA256 || size != f.Size:
			r.problem("%s was changed: SHA-256 %s (%d bytes), the manifest says %s (%d bytes)", f.Path, sum, size, f.SHA256, f.Size)
		}
	}
	// No file beside them.
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if _, ok := listed[rel]; !ok && rel != "manifest.json" && rel != "manifest.csv" {
			r.problem("%s is not in the manifest", rel)
		}
		return nil
	})
	// Every capture's file is there under its hash, and the chain's
	// events about captures name the same hashes.
	captured := map[string]bool{}
	for _, id := range m.Items {
		rel := "items/" + strconv.FormatInt(id, 10) + ".json"
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			continue // said above
		}
		var it ItemRecord
		if err := json.Unmarshal(b, &it); err != nil {
			r.problem("%s: %v", rel, err)
			continue
		}
		for _, c := range it.Captures {
			if c.SHA256 == "" {
				continue
			}
			r.Captures++
			captured[c.SHA256] = true
			if _, ok := listed[path.Join("warc", c.SHA256+".warc.gz")]; !ok {
				r.problem("capture %d of item %d: its WARC file %s.warc.gz is not in the package", c.ID, id, c.SHA256)
			}
		}
	}
	r.verifyEvents(ctx, filepath.Join(dir, "audit.jsonl"), captured, chain)
	return r, nil
}

func (r *Report) verifyEvents(ctx context.Context, file string, captured map[string]bool, chain ChainEvent) {
	f, err := os.Open(file)
	if err != nil {
		return // said above
	}
	defer f.Close()
	r.ChainChecked = chain != nil
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	vouched := map[string]bool{}
	for line := 1; sc.Scan(); line++ {
		var e takedown.AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			r.problem("audit.jsonl line %d: %v", line, err)
			continue
		}
		r.Events++
		if e.ComputeHash() != e.Hash {
			r.problem("audit event %d (%s %s) does not carry the hash of its content: it was altered", e.Seq, e.Action, e.Subject)
			continue
		}
		if chain != nil {
			ce, err := chain(ctx, e.Seq)
			switch {
			case err != nil:
				r.problem("audit event %d: the chain has none: %v", e.Seq, err)
			case ce.Hash != e.Hash:
				r.problem("audit event %d is not the chain's event %d (hash %s, the chain's %s)", e.Seq, e.Seq, e.Hash, ce.Hash)
			}
		}
		if e.Action == "item.capture" || e.Action == "item.capture_failed" {
			var d struct {
				SHA256 string `json:"sha256"`
			}
			if json.Unmarshal(e.Details, &d) == nil && d.SHA256 != "" {
				vouched[d.SHA256] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		r.problem("audit.jsonl: %v", err)
	}
	for sum := range captured {
		if !vouched[sum] {
			r.problem("the capture with SHA-256 %s has no audit event in the package", sum)
		}
	}
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

func readCSVManifest(p string) ([]ManifestFile, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "path,sha256,size" {
		return nil, errors.New("no header path,sha256,size")
	}
	out := []ManifestFile{}
	for i, row := range rows[1:] {
		size, err := strconv.ParseInt(row[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: size %q", i+2, row[2])
		}
		out = append(out, ManifestFile{Path: row[0], SHA256: row[1], Size: size})
	}
	return out, nil
}
