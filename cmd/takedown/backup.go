package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/sqlite"
)

func newBackupCommand(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write a consistent copy of the SQLite database while it is in use",
		Long: `backup writes a consistent copy of the SQLite database to a new file while
serve, workers and imports go on using it (one snapshot, read in a read
transaction; writers are not held up). To restore, stop takedown and put
the copy in place of the database file (or point --db at it). The evidence
store (DB.evidence, or --evidence) holds content-addressed files that are
never changed once written: copy it beside the backup, e.g. with rsync,
after the backup, so that every capture the backup records has its file.

PostgreSQL is backed up with its own tools: pg_dump -Fc for a consistent
dump while takedown runs, pg_restore into an empty database to restore
(see the deployment notes in the README).`,
		Example: `  takedown backup --out /backups/takedown-$(date +%F).db
  rsync -a takedown.db.evidence/ /backups/takedown.db.evidence/`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			s, ok := db.(*sqlite.DB)
			if !ok {
				return takedown.Errorf(takedown.EINVALID, "takedown backup copies a SQLite database; back PostgreSQL up with pg_dump -Fc (see the README)")
			}
			start := time.Now()
			if err := s.Backup(cmd.Context(), out); err != nil {
				return err
			}
			fmt.Fprintf(g.stderr, "%s backed up to %s in %s\n", g.db, out, time.Since(start).Round(time.Millisecond))
			return nil
		}),
	}
	cmd.Flags().StringVar(&out, "out", "", "the new file to write (required)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
