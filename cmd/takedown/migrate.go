package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newMigrateCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema (and the job queue's) up to date",
		Long: `migrate applies takedown's embedded schema migrations and those of its job
queue. It is safe to run again. A SQLite file is migrated by every command
anyway; a PostgreSQL database is migrated only by this command or by
serve --migrate.`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			if err := migrate(cmd.Context(), db); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, "database is up to date")
			return nil
		}),
	}
}
