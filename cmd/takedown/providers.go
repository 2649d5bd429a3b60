package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/directory"
)

// providerFlags are the fields of a provider on the command line; set
// applies only those given.
type providerFlags struct {
	name, platforms, domains, languages string
	asns                                []uint
	abuseEmail, orderEmail              string
	webhookURL, webhookSecret           string
	apiURL, apiToken                    string
	noWebhook, noAPI                    bool
}

func (pf *providerFlags) register(f *pflag.FlagSet, withRemove bool) {
	f.StringVar(&pf.name, "name", "", "a name people read")
	f.StringVar(&pf.platforms, "platforms", "", "platforms it runs, comma-separated: telegram, x, facebook, instagram, youtube, tiktok")
	f.StringVar(&pf.domains, "domains", "", "registrable domains it hosts, comma-separated: websites there are referred to it")
	f.UintSliceVar(&pf.asns, "asns", nil, "autonomous systems of its hosting networks, comma-separated numbers")
	f.StringVar(&pf.languages, "languages", "", "languages its referrals are written in, preferred first (en, de, fr)")
	f.StringVar(&pf.abuseEmail, "abuse-email", "", "where referrals go by e-mail")
	f.StringVar(&pf.orderEmail, "order-email", "", "its point of contact for removal orders (Article 15 of Regulation (EU) 2021/784)")
	f.StringVar(&pf.webhookURL, "webhook-url", "", "its webhook for referrals as signed JSON")
	f.StringVar(&pf.webhookSecret, "webhook-secret", "", "the webhook's signing secret, whsec_... (better in TAKEDOWN_WEBHOOK_SECRET)")
	f.StringVar(&pf.apiURL, "api-url", "", "the base URL of its takedown API")
	f.StringVar(&pf.apiToken, "api-token", "", "the API's bearer token (better in TAKEDOWN_API_TOKEN)")
	if withRemove {
		f.BoolVar(&pf.noWebhook, "no-webhook", false, "remove the webhook")
		f.BoolVar(&pf.noAPI, "no-api", false, "remove the API")
	}
}

func commaList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// apply sets the fields whose flags were given.
func (pf *providerFlags) apply(f *pflag.FlagSet, p *takedown.Provider) error {
	set := func(name string) bool { return f.Changed(name) }
	if set("name") {
		p.Name = pf.name
	}
	if set("platforms") {
		p.Platforms = nil
		for _, pl := range commaList(pf.platforms) {
			p.Platforms = append(p.Platforms, takedown.Platform(pl))
		}
	}
	if set("domains") {
		p.Domains = commaList(strings.ToLower(pf.domains))
	}
	if set("asns") {
		p.ASNs = nil
		for _, n := range pf.asns {
			if n == 0 || n > 1<<32-1 {
				return takedown.Errorf(takedown.EINVALID, "--asns: %d is no autonomous system number", n)
			}
			p.ASNs = append(p.ASNs, uint32(n))
		}
	}
	if set("languages") {
		p.Languages = commaList(strings.ToLower(pf.languages))
	}
	if set("abuse-email") {
		p.Contacts.AbuseEmail = pf.abuseEmail
	}
	if set("order-email") {
		p.Contacts.OrderEmail = pf.orderEmail
	}
	if pf.noWebhook {
		p.Contacts.Webhook = nil
	} else if set("webhook-url") || set("webhook-secret") {
		w := &takedown.WebhookContact{}
		if p.Contacts.Webhook != nil {
			*w = *p.Contacts.Webhook
		}
		if set("webhook-url") {
			w.URL = pf.webhookURL
		}
		if set("webhook-secret") {
			w.Secret = pf.webhookSecret
		}
		p.Contacts.Webhook = w
	}
	if pf.noAPI {
		p.Contacts.API = nil
	} else if set("api-url") || set("api-token") {
		a := &takedown.APIContact{}
		if p.Contacts.API != nil {
			*a = *p.Contacts.API
		}
		if set("api-url") {
			a.URL = pf.apiURL
		}
		if set("api-token") {
			a.Token = pf.apiToken
		}
		p.Contacts.API = a
	}
	return nil
}

func newProviderCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provider",
		Short: "The provider directory: the services that receive referrals, and how to reach them",
		Long: `The provider directory says which provider each item goes to (by platform,
by the domain of a website, or by the network that hosts it) and how
referrals reach it: e-mail, a signed webhook, the provider's own takedown
API, and always takedown's portal for its liaisons.

A new database starts with the providers of the platforms takedown
recognises, without contacts: fill them in with provider set, or keep the
whole directory in a file and provider import it.`,
	}
	add := &providerFlags{}
	addCmd := &cobra.Command{
		Use:     "add CODE --name NAME [flags]",
		Short:   "Add a provider",
		Example: `  takedown provider add examplehost --name "Example Hosting" --domains examplehost.net --abuse-email abuse@examplehost.net`,
		Args:    cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			p := &takedown.Provider{Code: args[0]}
			if err := add.apply(cmd.Flags(), p); err != nil {
				return err
			}
			if err := db.CreateProvider(cmd.Context(), p); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "added provider %s (%s): channels %s\n", p.Code, p.Name, channelList(p))
			return nil
		}),
	}
	add.register(addCmd.Flags(), false)
	_ = addCmd.MarkFlagRequired("name")

	set := &providerFlags{}
	setCmd := &cobra.Command{
		Use:   "set CODE [flags]",
		Short: "Change a provider: only the fields whose flags are given",
		Example: `  takedown provider set telegram --abuse-email abuse@telegram.example --languages en
  TAKEDOWN_API_TOKEN=... takedown provider set x --api-url https://api.x.example/v1`,
		Args: cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			p, err := db.FindProvider(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := set.apply(cmd.Flags(), p); err != nil {
				return err
			}
			if err := db.UpdateProvider(cmd.Context(), p); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "changed provider %s: channels %s\n", p.Code, channelList(p))
			return nil
		}),
	}
	set.register(setCmd.Flags(), true)

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List providers with their platforms, domains and channels",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			ps, err := db.ListProviders(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CODE\tPLATFORMS\tDOMAINS\tCHANNELS\tNAME")
			for _, p := range ps {
				pls := make([]string, len(p.Platforms))
				for i, pl := range p.Platforms {
					pls[i] = string(pl)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Code, dash(strings.Join(pls, ",")), dash(abbreviate(p.Domains, 3)), channelList(p), p.Name)
			}
			return tw.Flush()
		}),
	}

	var secrets bool
	showCmd := &cobra.Command{
		Use:   "show CODE",
		Short: "Show a provider as a directory entry (YAML); secrets only with --secrets",
		Args:  cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			p, err := db.FindProvider(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return writeDirectory(g.stdout, []*takedown.Provider{p}, secrets)
		}),
	}
	showCmd.Flags().BoolVar(&secrets, "secrets", false, "include the webhook secret and the API token")

	exportCmd := &cobra.Command{
		Use:   "export",
		Short: "Write the whole directory as a file provider import reads (YAML); secrets only with --secrets",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			ps, err := db.ListProviders(cmd.Context())
			if err != nil {
				return err
			}
			return writeDirectory(g.stdout, ps, secrets)
		}),
	}
	exportCmd.Flags().BoolVar(&secrets, "secrets", false, "include webhook secrets and API tokens")

	importCmd := &cobra.Command{
		Use:   "import FILE|-",
		Short: "Add and change providers from a directory file (YAML or JSON)",
		Long: `import reads a directory file, a list of entries such as

  - code: examplehost
    name: Example Hosting
    domains: [examplehost.net]
    languages: [de, en]
    contacts:
      abuse_email: abuse@examplehost.net
      order_email: legal@examplehost.net
      webhook: {url: https://hooks.examplehost.net/takedown, secret: whsec_...}
      api: {url: https://api.examplehost.net/v1, token: ...}

A provider the file names is added, or replaced by the entry if it exists;
providers the file does not name stay as they are. A contact whose secret
the file leaves out (or withholds, as export without --secrets writes it)
keeps the secret it has. A file with any bad entry changes nothing.`,
		Args: cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			var r io.Reader = g.stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return takedown.Errorf(takedown.EINVALID, "cannot read the directory: %v", err)
				}
				defer f.Close()
				r = f
			}
			b, err := io.ReadAll(io.LimitReader(r, 16<<20))
			if err != nil {
				return err
			}
			ps, err := directory.Parse(b)
			if err != nil {
				return err
			}
			added, changed, err := importProviders(cmd.Context(), db, ps)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%d providers added, %d changed\n", added, changed)
			return nil
		}),
	}
	cmd.AddCommand(addCmd, setCmd, listCmd, showCmd, exportCmd, importCmd)
	return cmd
}

// importProviders adds or replaces each provider. The file was checked
// whole before: what fails here is the database.
func importProviders(ctx context.Context, db database, ps []*takedown.Provider) (added, changed int, err error) {
	for _, p := range ps {
		old, err := db.FindProvider(ctx, p.Code)
		switch {
		case takedown.ErrorCode(err) == takedown.ENOTFOUND:
			if err := db.CreateProvider(ctx, p); err != nil {
				return added, changed, err
			}
			added++
		case err != nil:
			return added, changed, err
		default:
			p.KeepSecrets(old)
			if err := db.UpdateProvider(ctx, p); err != nil {
				return added, changed, err
			}
			changed++
		}
	}
	return added, changed, nil
}

func writeDirectory(w io.Writer, ps []*takedown.Provider, secrets bool) error {
	if !secrets {
		// Left out, not withheld: a file without secrets imports again
		// and keeps the secrets the database has.
		for i, p := range ps {
			r := p.Redacted()
			if r.Contacts.Webhook != nil {
				r.Contacts.Webhook.Secret = ""
			}
			if r.Contacts.API != nil {
				r.Contacts.API.Token = ""
			}
			ps[i] = r
		}
	}
	b, err := directory.Render(ps)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// seedDirectory gives a database without providers the built-in entries,
// so that platform items find their provider from the start.
func seedDirectory(ctx context.Context, db database) error {
	ps, err := db.ListProviders(ctx)
	if err != nil || len(ps) > 0 {
		return err
	}
	for _, p := range directory.Builtin() {
		if err := db.CreateProvider(ctx, p); err != nil && takedown.ErrorCode(err) != takedown.ECONFLICT {
			return fmt.Errorf("the built-in provider directory: %w", err)
		}
	}
	return nil
}

func channelList(p *takedown.Provider) string {
	var out []string
	for _, c := range p.Channels() {
		out = append(out, string(c))
	}
	return strings.Join(out, ",")
}

func abbreviate(ss []string, n int) string {
	if len(ss) <= n {
		return strings.Join(ss, ",")
	}
	return strings.Join(ss[:n], ",") + fmt.Sprintf(",+%d", len(ss)-n)
}
