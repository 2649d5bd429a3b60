package main

import (
	"fmt"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"os"

	"github.com/spf13/cobra"
	_ "golang.org/x/image/webp"

	"github.com/takedown-project/takedown/internal/pdq"
)

func newPDQCommand(g *globals) *cobra.Command {
	var dihedral bool
	cmd := &cobra.Command{
		Use:   "pdq FILE...",
		Short: "Print the PDQ perceptual hash and quality of images, as the reference pdq-photo-hasher does",
		Long: `pdq prints one line per image: hash,quality,path, the hash as 64 hex
digits and the quality from 0 to 100 (hashes of quality under 50 are not
used for matching). JPEG, PNG, GIF and WebP are read. With --dihedral it
prints the hashes of the image's eight rotations and mirrors too, one line
each, from the one DCT: hash,quality,path,transform. A file that cannot be
read gives an error line on stderr and exit status 1; the others are
hashed all the same.`,
		Example: `  takedown pdq avatar.jpg banner.png`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := 0
			for _, path := range args {
				if err := hashFile(g, path, dihedral); err != nil {
					fmt.Fprintf(g.stderr, "takedown pdq: %s: %v\n", path, err)
					failed++
				}
			}
			if failed > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dihedral, "dihedral", false, "also the hashes of the eight rotations and mirrors")
	return cmd
}

var dihedralNames = [8]string{"original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flipplus1", "flipminus1"}

func hashFile(g *globals, path string, dihedral bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("not an image takedown reads (JPEG, PNG, GIF, WebP): %w", err)
	}
	if !dihedral {
		r, err := pdq.Compute(img)
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "%s,%d,%s\n", r.Hash, r.Quality, path)
		return nil
	}
	r, d, err := pdq.ComputeDihedral(img)
	if err != nil {
		return err
	}
	for k, h := range d {
		fmt.Fprintf(g.stdout, "%s,%d,%s,%s\n", h, r.Quality, path, dihedralNames[k])
	}
	return nil
}
