// Command takedown runs a referral action day: it collects the items every
// agency found, recognises and deduplicates them, and serves them to the
// people who refer them. See the README for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/takedown-project/takedown"
)

// exitError carries an exit status other than 1 out of a command, for
// commands whose status has a meaning of its own (canon: some lines failed).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the exit status; tests
// call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(stderr, "takedown:", userMessage(err))
	return 1
}

// userMessage is what a person at a terminal should read for err: an
// application error's message, or the wrapped chain for anything else.
func userMessage(err error) string {
	if code := takedown.ErrorCode(err); code != takedown.EINTERNAL {
		return takedown.ErrorMessage(err)
	}
	return err.Error()
}

// globals is the configuration every command shares, read once from flags
// and TAKEDOWN_* variables and passed down.
type globals struct {
	db        string
	evidence  string
	logLevel  string
	logFormat string
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	logger    *slog.Logger
}

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "takedown",
		Short: "Run a referral action day: collect, recognise, deduplicate and track terrorist content items",
		Long: `takedown collects the items (accounts, channels, posts, links) that every
agency of a referral action day found, recognises them under one canonical
identity, deduplicates them and serves them to the people who refer them.

Every flag can also be set with a TAKEDOWN_* environment variable: --db is
TAKEDOWN_DB, --log-level is TAKEDOWN_LOG_LEVEL, and so on. A flag given on
the command line wins over the environment.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			// A command's own flag that shadows a global one of the same
			// name (operation create --evidence, the policy, beside the
			// global --evidence, the folder) is not what the variable
			// names.
			shadows := func(f *pflag.Flag) bool {
				return cmd.LocalNonPersistentFlags().Lookup(f.Name) != nil && cmd.Root().PersistentFlags().Lookup(f.Name) != nil
			}
			if err := bindEnvironment(cmd.Flags(), shadows); err != nil {
				return err
			}
			logger, err := newLogger(g.stderr, g.logLevel, g.logFormat)
			if err != nil {
				return err
			}
			g.logger = logger
			// The command line has the database itself: what it changes
			// is recorded as done by the operating-system user.
			cmd.SetContext(takedown.WithActor(cmd.Context(), &takedown.Actor{Via: takedown.ViaCLI, Name: osUser()}))
			return nil
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.db, "db", "takedown.db", "database: a SQLite file path, or a postgres:// URL")
	pf.StringVar(&g.evidence, "evidence", "", "folder of the evidence store (default: beside a SQLite database, DB.evidence; required with PostgreSQL)")
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")

	// A CPU profile of any command, for performance work.
	var cpuProfile string
	pf.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file")
	_ = pf.MarkHidden("cpuprofile")
	root.PersistentPostRunE = func(cmd *cobra.Command, args []string) error {
		pprof.StopCPUProfile()
		return nil
	}
	startProfile := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if cpuProfile != "" {
			f, err := os.Create(cpuProfile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
		}
		return startProfile(cmd, args)
	}

	root.AddCommand(
		newCanonCommand(g),
		newMigrateCommand(g),
		newOperationCommand(g),
		newAgencyCommand(g),
		newImportCommand(g),
		newItemsCommand(g),
		newServeCommand(g),
		newWorkerCommand(g),
		newSampleCommand(g),
		newSimnetCommand(g),
		newDemoCommand(g),
		newUserCommand(g),
		newTokenCommand(g),
		newProviderCommand(g),
		newHoldCommand(g),
		newReferCommand(g),
		newReferralsCommand(g),
		newProbeCommand(g),
		newAuditCommand(g),
		newBenchCommand(g),
		newEvidenceCommand(g),
		newPDQCommand(g),
		newResurgenceCommand(g), newReportCommand(g),
		newExportCommand(g), newBackupCommand(g),
		newHashesCommand(g),
	)
	return root
}

// osUser names who runs the command, for the audit chain.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

// bindEnvironment sets every flag that was not given on the command line
// from its TAKEDOWN_* variable, if that is set, but those skip says.
func bindEnvironment(flags *pflag.FlagSet, skip func(*pflag.Flag) bool) error {
	var err error
	flags.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || skip(f) {
			return
		}
		name := "TAKEDOWN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := flags.Set(f.Name, v); e != nil {
				err = fmt.Errorf("environment variable %s=%q: %w", name, v, e)
			}
		}
	})
	return err
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
