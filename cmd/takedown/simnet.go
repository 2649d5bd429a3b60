package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/simnet"
)

// scenarioOptions choose a scenario: the embedded demo or a file, with
// overrides.
type scenarioOptions struct {
	path      string
	seed      uint64
	timeScale float64
}

func (o *scenarioOptions) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.path, "scenario", "demo", `scenario: "demo" (built in: 11 agencies, about 26,000 items) or a YAML/JSON file`)
	f.Uint64Var(&o.seed, "seed", 0, "seed of the simulated world (0: the scenario's)")
	f.Float64Var(&o.timeScale, "time-scale", 0, "scenario seconds per real second (0: the scenario's)")
}

func (o *scenarioOptions) load() (*simnet.Scenario, error) {
	var s *simnet.Scenario
	if o.path == "demo" || o.path == "" {
		s = simnet.Demo()
	} else {
		b, err := os.ReadFile(o.path)
		if err != nil {
			return nil, takedown.Errorf(takedown.EINVALID, "cannot read the scenario: %v", err)
		}
		if s, err = simnet.ParseScenario(b); err != nil {
			return nil, takedown.Errorf(takedown.EINVALID, "%s: %v", o.path, err)
		}
	}
	if o.seed != 0 {
		s.Seed = o.seed
	}
	if o.timeScale < 0 {
		return nil, takedown.Errorf(takedown.EINVALID, "--time-scale %v: want a positive number", o.timeScale)
	}
	if o.timeScale > 0 {
		s.TimeScale = o.timeScale
	}
	return s, nil
}

func newSimnetCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simnet",
		Short: "The simulated internet that the demo and the tests run against",
		Long: `simnet runs takedown's simulated internet on loopback: a channel service
with public preview pages (Telegram-like), a microblog (X-like), a video site
(YouTube-like), a file host and a web host, each with an abuse mailbox (SMTP)
and a takedown API (HTTPS, JSON) whose behaviour a scenario sets, and an
adversary that re-creates removed channels under mutated names. Everything in
it is generated from the scenario's seed: invented names, filler text,
generated images. It never reaches a real platform.`,
	}
	cmd.AddCommand(newSimnetServeCommand(g), newSimnetExportsCommand(g))
	return cmd
}

func newSimnetServeCommand(g *globals) *cobra.Command {
	var so scenarioOptions
	var https, http, smtp, info string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the simulated internet until interrupted",
		Long: `serve starts the simulated internet on loopback and writes what a client
needs to reach it (addresses, the CA certificate generated at start-up,
provider API tokens) to --info as JSON, and the CA certificate beside it as a
PEM file. Every simulated host answers on the same listeners: a client
connects there and sends the real-looking host name (SNI and Host header).

The control API at https://simnet.example/_simnet/ (info, status, reports,
mail, api-requests, callbacks, truth, entities, POST clock/advance?by=2h)
shows what the simulator received and knows.`,
		Example: `  takedown simnet serve --info /tmp/simnet.json
  curl --cacert /tmp/simnet-ca.pem --connect-to ::127.0.0.1:PORT https://t.me/s/CHANNEL`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := so.load()
			if err != nil {
				return err
			}
			srv, err := simnet.Start(cmd.Context(), simnet.Config{Scenario: s, HTTPSAddr: https, HTTPAddr: http, SMTPAddr: smtp, Logger: g.logger})
			if err != nil {
				return err
			}
			defer srv.Close()
			caPath, err := writeSimnetInfo(srv.Info(), info)
			if err != nil {
				return err
			}
			printSimnet(g.stdout, srv, info, caPath)
			<-cmd.Context().Done()
			return nil
		},
	}
	so.flags(cmd)
	f := cmd.Flags()
	f.StringVar(&https, "https", "127.0.0.1:0", "loopback address standing for every simulated host's port 443")
	f.StringVar(&http, "http", "127.0.0.1:0", "loopback address standing for port 80")
	f.StringVar(&smtp, "smtp", "127.0.0.1:0", "loopback address of the abuse mailboxes (port 25)")
	f.StringVar(&info, "info", "simnet.json", "write the simulator's description (addresses, CA, tokens) to this file")
	return cmd
}

// writeSimnetInfo writes the simulator's description and its CA
// certificate (for curl and browsers) and returns the certificate's path.
func writeSimnetInfo(info simnet.Info, path string) (string, error) {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("write the simulator's description: %w", err)
	}
	caPath := strings.TrimSuffix(path, filepath.Ext(path)) + "-ca.pem"
	if err := os.WriteFile(caPath, []byte(info.CAPEM), 0o644); err != nil {
		return "", fmt.Errorf("write the simulator's CA certificate: %w", err)
	}
	return caPath, nil
}

func printSimnet(w io.Writer, srv *simnet.Server, infoPath, caPath string) {
	info := srv.Info()
	world := srv.World()
	fmt.Fprintf(w, "simulated internet (scenario %s, seed %d): %d items of %d outlets\n", info.Scenario, info.Seed, len(world.Entities), len(world.Outlets))
	fmt.Fprintf(w, "  HTTPS (every host's :443)  %s\n", info.HTTPS)
	fmt.Fprintf(w, "  HTTP  (every host's :80)   %s\n", info.HTTP)
	fmt.Fprintf(w, "  SMTP  (abuse mailboxes)    %s\n", info.SMTP)
	fmt.Fprintf(w, "  description                %s\n", infoPath)
	fmt.Fprintf(w, "  CA certificate             %s\n", caPath)
	var example string
	for _, e := range world.Entities {
		if e.Platform == simnet.Telegram && e.Kind == simnet.KindChannel {
			example = "https://t.me/s/" + e.Handle
			break
		}
	}
	fmt.Fprintf(w, "try:\n  curl --cacert %s --connect-to ::%s %s\n", caPath, info.HTTPS, example)
	fmt.Fprintf(w, "  curl --cacert %s --connect-to ::%s %sstatus\n", caPath, info.HTTPS, info.Control)
}

func newSimnetExportsCommand(g *globals) *cobra.Command {
	var so scenarioOptions
	var out string
	cmd := &cobra.Command{
		Use:   "exports --out DIR",
		Short: "Write the agencies' exports of a scenario, and their ground truth",
		Long: `exports writes what each agency of the scenario found, in the agency's own
format (CSV with its own column names, order and separator, or JSON Lines),
with overlap between agencies, items listed twice and a share of broken rows,
and truth.json: how many items and submissions an import must find, and how
many rows it must reject.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := so.load()
			if err != nil {
				return err
			}
			world, err := simnet.Generate(s)
			if err != nil {
				return err
			}
			truth, err := world.WriteExports(out)
			if err != nil {
				return err
			}
			b, _ := json.MarshalIndent(truth, "", "  ")
			if err := os.WriteFile(filepath.Join(out, "truth.json"), append(b, '\n'), 0o644); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "agency\tformat\tfile\trows\tbroken")
			for _, f := range truth.Files {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", f.Agency.Code, f.Format, f.Path, f.Rows, f.Bad)
			}
			tw.Flush()
			fmt.Fprintf(g.stdout, "%d rows, %d broken; %d distinct items, %d submissions (truth.json has the details)\n", truth.Rows, truth.Bad, truth.Found, truth.Submissions)
			return nil
		},
	}
	so.flags(cmd)
	cmd.Flags().StringVar(&out, "out", "exports", "directory to write the exports to")
	return cmd
}
