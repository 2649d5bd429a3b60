package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/canon"
)

func newCanonCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "canon",
		Short: "Recognise URLs read from stdin, one per line",
		Long: `canon reads URLs from standard input, one per line, and writes one line per
line read:

  canonical<TAB>platform<TAB>kind<TAB>handle      (empty fields as -)

or, with --json, one JSON object per line. A line that is not a URL gives an
error line ("error<TAB>message", or an object with "error") in its place,
never a silent skip, and the exit status is 2 when any line failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in := bufio.NewScanner(g.stdin)
			in.Buffer(make([]byte, 64*1024), 16<<20)
			out := bufio.NewWriter(g.stdout)
			defer out.Flush()
			enc := json.NewEncoder(out)
			enc.SetEscapeHTML(false)
			failed := 0
			for in.Scan() {
				line := in.Text()
				rec, err := canon.Recognize(line)
				if err != nil {
					failed++
				}
				if asJSON {
					v := canonJSON{Input: line}
					if err != nil {
						v.Error = takedown.ErrorMessage(err)
					} else {
						v.Recognition = &rec
					}
					if err := enc.Encode(v); err != nil {
						return err
					}
					continue
				}
				if err != nil {
					fmt.Fprintf(out, "error\t%s\n", oneLine(takedown.ErrorMessage(err)))
					continue
				}
				fmt.Fprintf(out, "%s\t%s\t%s\t%s\n", dash(rec.Canonical), dash(string(rec.Platform)), dash(string(rec.Kind)), dash(rec.Handle))
			}
			if err := in.Err(); err != nil {
				return fmt.Errorf("read stdin: %w", err)
			}
			if err := out.Flush(); err != nil {
				return err
			}
			if failed > 0 {
				fmt.Fprintf(g.stderr, "takedown canon: %d line(s) could not be recognised\n", failed)
				return exitError{2}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "write one JSON object per line")
	return cmd
}

type canonJSON struct {
	Input string `json:"input"`
	*takedown.Recognition
	Error string `json:"error,omitempty"`
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps an error message on its line of the output.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s)
}
