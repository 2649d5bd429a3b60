package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
)

func newAuditCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read, verify and sign the audit chain",
		Long: `Every change takedown makes is an event in the audit chain, written in the
transaction of the change; each event carries the hash of the one before it.
"audit verify" walks the whole chain and finds any event changed, deleted,
inserted or reordered, and a chain cut at its end. "audit head --sign KEY"
exports the newest event's hash signed with Ed25519: a third party who keeps
it can later check any copy of the chain against it ("audit verify --head").`,
	}
	var headFile, pubFile string
	verify := &cobra.Command{
		Use:   "verify [--head SIGNED.json [--public-key KEY.pub]]",
		Short: "Verify the whole chain (exit status 3 when it is broken)",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			start := time.Now()
			head, n, err := takedown.VerifyAudit(cmd.Context(), db)
			var broken *takedown.ChainBreak
			if errors.As(err, &broken) {
				fmt.Fprintf(g.stdout, "BROKEN after checking %d events: %v\n", n, err)
				return exitError{3}
			} else if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "audit chain verified: %d events, head %d %s (%s)\n", n, head.Seq, head.Hash, time.Since(start).Round(time.Millisecond))
			if headFile == "" {
				return nil
			}
			signed, err := readSignedHead(headFile)
			if err != nil {
				return err
			}
			var pub ed25519.PublicKey
			if pubFile != "" {
				if pub, err = readPublicKey(pubFile); err != nil {
					return err
				}
			}
			if err := signed.Check(pub); err != nil {
				return takedown.Errorf(takedown.EINVALID, "%s: %v", headFile, err)
			}
			evs, err := db.ListAudit(cmd.Context(), takedown.AuditFilter{AfterSeq: signed.Head.Seq - 1, Limit: 1})
			if err != nil {
				return err
			}
			var found *takedown.AuditEvent
			if len(evs) == 1 && evs[0].Seq == signed.Head.Seq {
				found = evs[0]
			}
			if err := signed.Contains(found); err != nil {
				fmt.Fprintf(g.stdout, "BROKEN: %v\n", err)
				return exitError{3}
			}
			fmt.Fprintf(g.stdout, "the chain holds the head signed on %s (event %d)\n", signed.SignedAt.Format(time.RFC3339), signed.Head.Seq)
			if pub == nil {
				fmt.Fprintln(g.stdout, "note: checked with the public key in the file; pass --public-key with your own copy to rule out a replaced key")
			}
			return nil
		}),
	}
	verify.Flags().StringVar(&headFile, "head", "", "a signed head (audit head --sign) the chain must hold")
	verify.Flags().StringVar(&pubFile, "public-key", "", "the signer's public key (PEM), to check the signed head with")

	var keyFile, out string
	head := &cobra.Command{
		Use:   "head [--sign KEY] [--out FILE]",
		Short: "Print the chain's head, signed with an Ed25519 key when one is given",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			h, err := db.AuditHead(cmd.Context())
			if err != nil {
				return err
			}
			var v any = h
			if keyFile != "" {
				key, err := readPrivateKey(keyFile)
				if err != nil {
					return err
				}
				v = takedown.SignHead(h, time.Now(), key)
			}
			b, _ := json.MarshalIndent(v, "", "  ")
			b = append(b, '\n')
			if out == "" {
				_, err = g.stdout.Write(b)
				return err
			}
			return os.WriteFile(out, b, 0o644)
		}),
	}
	head.Flags().StringVar(&keyFile, "sign", "", "sign with this Ed25519 private key (PEM, from audit keygen)")
	head.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")

	var prefix string
	keygen := &cobra.Command{
		Use:   "keygen --out PREFIX",
		Short: "Make an Ed25519 key pair for signing heads: PREFIX.key and PREFIX.pub",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			privDER, _ := x509.MarshalPKCS8PrivateKey(priv)
			pubDER, _ := x509.MarshalPKIXPublicKey(pub)
			if err := writeNew(prefix+".key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
				return err
			}
			if err := writeNew(prefix+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "wrote %s.key (keep it secret) and %s.pub (give it to whoever checks)\n", prefix, prefix)
			return nil
		},
	}
	keygen.Flags().StringVar(&prefix, "out", "", "file name prefix (required)")
	_ = keygen.MarkFlagRequired("out")

	var operation, subject string
	var after int64
	var limit int
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--operation OP] [--subject S] [--after SEQ] [--limit N]",
		Short: "List events in order",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			evs, err := db.ListAudit(cmd.Context(), takedown.AuditFilter{AfterSeq: after, Limit: limit, Operation: operation, Subject: subject})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				for _, e := range evs {
					if err := enc.Encode(e); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tAT\tACTOR\tACTION\tSUBJECT\tDETAILS")
			for _, e := range evs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Format(time.RFC3339), e.Actor, e.Action, e.Subject, e.Details)
			}
			return tw.Flush()
		}),
	}
	lf := list.Flags()
	lf.StringVar(&operation, "operation", "", "events of one operation")
	lf.StringVar(&subject, "subject", "", `events about one subject, e.g. "hold:12"`)
	lf.Int64Var(&after, "after", 0, "events after this sequence number")
	lf.IntVar(&limit, "limit", 100, "at most this many events")
	lf.BoolVar(&asJSON, "json", false, "JSON Lines output")
	cmd.AddCommand(verify, head, keygen, list)
	return cmd
}

// writeNew writes a file that must not exist yet: a key is never
// overwritten by mistake.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, takedown.Errorf(takedown.EINVALID, "%s is not a PEM file", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, takedown.Errorf(takedown.EINVALID, "%s: %v", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, takedown.Errorf(takedown.EINVALID, "%s is not an Ed25519 key", path)
	}
	return key, nil
}

func readPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, takedown.Errorf(takedown.EINVALID, "%s is not a PEM file", path)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, takedown.Errorf(takedown.EINVALID, "%s: %v", path, err)
	}
	key, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, takedown.Errorf(takedown.EINVALID, "%s is not an Ed25519 key", path)
	}
	return key, nil
}

func readSignedHead(path string) (*takedown.SignedHead, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s takedown.SignedHead
	if err := json.Unmarshal(b, &s); err != nil || s.Signature == "" {
		return nil, takedown.Errorf(takedown.EINVALID, "%s is not a signed head (audit head --sign)", path)
	}
	return &s, nil
}
