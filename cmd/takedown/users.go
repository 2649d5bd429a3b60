package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
	"github.com/takedown-project/takedown/internal/simnet"
)

// readPassword reads a new password: from standard input when told to
// (one line, for scripts), else twice from the terminal without echo.
// A password is never a flag: flags show in process lists and shell
// histories.
func readPassword(g *globals, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(g.stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("read the password from standard input: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := g.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", takedown.Errorf(takedown.EINVALID, "no terminal to ask for a password: give it on standard input with --password-stdin, or use --no-password")
	}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(g.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.stderr)
		return string(b), err
	}
	pw, err := ask("password (12 characters or more): ")
	if err != nil {
		return "", err
	}
	again, err := ask("the same again: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", takedown.Errorf(takedown.EINVALID, "the two passwords differ")
	}
	return pw, nil
}

func newUserCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Add, list and change users",
		Long: `Users belong to one agency (coordinators, analysts) or one provider (the
provider role), and have roles:

  admin        manages agencies, providers, users and tokens; sees no items
  coordinator  runs its agency's operations: sees everything in them, refers
  analyst      submits items and places holds for its agency
  provider     a provider's liaison: sees only the referrals to its provider
  auditor      reads everything, changes nothing, verifies the audit chain

The command line has the database itself and needs no login; what it
changes is recorded in the audit chain as done by the operating-system user.`,
	}
	var roles, agency, provider, email, display string
	var pwStdin, noPassword bool
	add := &cobra.Command{
		Use:   "add NAME --roles R[,R] [--agency A | --provider P]",
		Short: "Add a user (asks for the password on a terminal)",
		Example: `  takedown user add ada --roles admin
  takedown user add nl-analyst-1 --roles analyst --agency nl-iru --email analyst1@iru.example
  echo "$PASSWORD" | takedown user add tg-liaison --roles provider --provider telegram --password-stdin
  takedown user add importer-bot --roles analyst --agency nl-iru --no-password   # then: takedown token create`,
		Args: cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			rs, err := takedown.ParseRoles(roles)
			if err != nil {
				return err
			}
			u := &takedown.User{Name: args[0], Roles: rs, Agency: agency, Provider: provider, Email: email, DisplayName: display}
			if err := u.Validate(); err != nil {
				return err
			}
			var hash string
			if !noPassword {
				pw, err := readPassword(g, pwStdin)
				if err != nil {
					return err
				}
				if hash, err = auth.HashPassword(pw); err != nil {
					return err
				}
			}
			if err := db.CreateUser(cmd.Context(), u, hash); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "added user %s (%s)\n", u.Name, tenantOf(u))
			return nil
		}),
	}
	f := add.Flags()
	f.StringVar(&roles, "roles", "", "roles, comma-separated: admin, coordinator, analyst, provider, auditor (required)")
	f.StringVar(&agency, "agency", "", "the user's agency (coordinators and analysts)")
	f.StringVar(&provider, "provider", "", "the user's provider (the provider role)")
	f.StringVar(&email, "email", "", "e-mail address (also links a first OpenID Connect login)")
	f.StringVar(&display, "display-name", "", "the name people read")
	f.BoolVar(&pwStdin, "password-stdin", false, "read the password from standard input (one line)")
	f.BoolVar(&noPassword, "no-password", false, "no password: the user logs in with OpenID Connect or uses tokens")
	_ = add.MarkFlagRequired("roles")
	add.MarkFlagsMutuallyExclusive("password-stdin", "no-password")

	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			us, err := db.ListUsers(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(g.stdout).Encode(map[string]any{"users": us})
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTENANT\tROLES\tLOGIN\tSTATE")
			for _, u := range us {
				login := []string{}
				if u.HasPassword {
					login = append(login, "password")
				}
				if u.OIDCSubject != "" {
					login = append(login, "oidc")
				}
				state := "active"
				if u.Disabled {
					state = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, tenantOf(u), joinRoles(u.Roles), dash(strings.Join(login, ",")), state)
			}
			return tw.Flush()
		}),
	}
	list.Flags().BoolVar(&asJSON, "json", false, "JSON output")

	var setRoles, setEmail, setOIDC string
	var disable, enable, setPassword bool
	set := &cobra.Command{
		Use:   "set NAME [changes]",
		Short: "Change a user: roles, e-mail, password, identity link, disabled",
		Example: `  takedown user set nl-analyst-1 --roles analyst,coordinator
  takedown user set nl-analyst-1 --disable
  takedown user set ada --password          # asks on the terminal`,
		Args: cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			var upd takedown.UserUpdate
			fl := cmd.Flags()
			if fl.Changed("roles") {
				rs, err := takedown.ParseRoles(setRoles)
				if err != nil {
					return err
				}
				upd.Roles = &rs
			}
			if fl.Changed("email") {
				upd.Email = &setEmail
			}
			if fl.Changed("oidc-subject") {
				upd.OIDCSubject = &setOIDC
			}
			if disable || enable {
				upd.Disabled = &disable
			}
			if setPassword || pwStdin {
				pw, err := readPassword(g, pwStdin)
				if err != nil {
					return err
				}
				hash, err := auth.HashPassword(pw)
				if err != nil {
					return err
				}
				upd.PasswordHash = &hash
			}
			u, err := db.UpdateUser(cmd.Context(), args[0], upd)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "user %s: %s, roles %s, disabled %v\n", u.Name, tenantOf(u), joinRoles(u.Roles), u.Disabled)
			return nil
		}),
	}
	sf := set.Flags()
	sf.StringVar(&setRoles, "roles", "", "new roles, comma-separated")
	sf.StringVar(&setEmail, "email", "", "new e-mail address")
	sf.StringVar(&setOIDC, "oidc-subject", "", `link to an identity provider's account: "ISSUER#SUBJECT" ("" unlinks)`)
	sf.BoolVar(&disable, "disable", false, "disable the user: no login, no token works")
	sf.BoolVar(&enable, "enable", false, "enable the user again")
	sf.BoolVar(&setPassword, "password", false, "set a new password (asked on the terminal)")
	sf.BoolVar(&pwStdin, "password-stdin", false, "set a new password read from standard input")
	set.MarkFlagsMutuallyExclusive("disable", "enable")
	cmd.AddCommand(add, list, set)
	return cmd
}

func tenantOf(u *takedown.User) string {
	switch {
	case u.Agency != "":
		return "agency " + u.Agency
	case u.Provider != "":
		return "provider " + u.Provider
	}
	return "no tenant"
}

func joinRoles(rs []takedown.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

func newTokenCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens",
		Long: `A token lets a program use the API as a user: send it as
"Authorization: Bearer tdk_...". Its secret is shown once, when it is made,
and stored only as a hash. A read token may only read; a write token may do
whatever its user may. Tokens expire (at most after a year) and can be revoked.`,
	}
	var user, name, scope string
	var expires simnet.Duration
	create := &cobra.Command{
		Use:     "create --user U [--expires 30d] [--scope read|write]",
		Short:   "Create a token and print its secret, once",
		Example: `  takedown token create --user importer-bot --scope write --expires 90d --name "nightly import"`,
		Args:    cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			var scopes []takedown.Scope
			switch scope {
			case "read":
				scopes = []takedown.Scope{takedown.ScopeRead}
			case "write":
				scopes = []takedown.Scope{takedown.ScopeRead, takedown.ScopeWrite}
			default:
				return takedown.Errorf(takedown.EINVALID, "--scope %q: want read or write", scope)
			}
			secret, prefix, hash := auth.NewToken()
			t := &takedown.Token{User: user, Name: name, Prefix: prefix, Scopes: scopes, ExpiresAt: time.Now().Add(expires.D())}
			if err := db.CreateToken(cmd.Context(), t, hash); err != nil {
				return err
			}
			fmt.Fprintf(g.stderr, "token %d for %s (%s), expires %s; the secret is shown this once:\n", t.ID, t.User, scope, t.ExpiresAt.Format(time.RFC3339))
			fmt.Fprintln(g.stdout, secret)
			return nil
		}),
	}
	expires = simnet.Duration(30 * 24 * time.Hour)
	cf := create.Flags()
	cf.StringVar(&user, "user", "", "the token's user (required)")
	cf.StringVar(&name, "name", "", "what the token is for")
	cf.StringVar(&scope, "scope", "read", "read or write")
	cf.Var(durationFlag{&expires}, "expires", "lifetime, e.g. 30d, 12h (at most 366d)")
	_ = create.MarkFlagRequired("user")

	list := &cobra.Command{
		Use:   "list --user U",
		Short: "List a user's tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			ts, err := db.ListTokens(cmd.Context(), user)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPREFIX\tSCOPES\tEXPIRES\tSTATE\tLAST USED\tNAME")
			now := time.Now()
			for _, t := range ts {
				state := "active"
				switch {
				case t.RevokedAt != nil:
					state = "revoked"
				case !t.Usable(now):
					state = "expired"
				}
				used := "-"
				if t.LastUsedAt != nil {
					used = t.LastUsedAt.Format(time.RFC3339)
				}
				scopes := make([]string, len(t.Scopes))
				for i, s := range t.Scopes {
					scopes[i] = string(s)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Prefix, strings.Join(scopes, ","), t.ExpiresAt.Format(time.RFC3339), state, used, dash(t.Name))
			}
			return tw.Flush()
		}),
	}
	list.Flags().StringVar(&user, "user", "", "the user (required)")
	_ = list.MarkFlagRequired("user")

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token now",
		Args:  cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return takedown.Errorf(takedown.EINVALID, "token ID %q is not a number", args[0])
			}
			t, err := db.RevokeToken(cmd.Context(), id)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "token %d of %s revoked\n", t.ID, t.User)
			return nil
		}),
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// durationFlag is a flag of days or Go durations ("30d", "12h").
type durationFlag struct{ d *simnet.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := simnet.ParseDuration(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

func (f durationFlag) Type() string { return "duration" }
