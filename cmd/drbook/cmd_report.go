package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
)

type reportOptions struct {
	Format string
	Out    string
	Sign   string
}

func newReportCommand(g *globalOptions) *cobra.Command {
	opts := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report RUN_DIR",
		Short: "Render a run's report from its journal alone (html, md, json, junit)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(g, opts, args[0])
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "html", "html, md, json or junit")
	cmd.Flags().StringVarP(&opts.Out, "output", "o", "", "write to FILE instead of standard output")
	cmd.Flags().StringVar(&opts.Sign, "sign", "", "first sign the journal's final hash with this ed25519 private key (journal.sig)")
	return cmd
}

func runReport(g *globalOptions, opts *reportOptions, runDir string) error {
	if !slices.Contains(reports.Formats, opts.Format) {
		return usage("use --format html, md, json or junit", "unknown format %q", opts.Format)
	}
	if opts.Sign != "" {
		if err := signRun(g, runDir, opts.Sign); err != nil {
			return err
		}
	}
	r, err := reports.ReadRun(runDir)
	if err != nil {
		return fmt.Errorf("%s: %w", runDir, err)
	}
	if h, err := r.HistoryOf(runDir); err == nil {
		r.History = h
	}
	var w io.Writer = g.stdout
	if opts.Out != "" {
		f, err := createPrivate(opts.Out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	if err := reports.Render(bw, r, opts.Format, g.Lang); err != nil {
		return err
	}
	return bw.Flush()
}

func signRun(g *globalOptions, runDir, keyFile string) error {
	var pass []byte
	key, err := journal.LoadSigningKey(keyFile, nil)
	if err != nil && isTerminal(g.stdin) {
		p, perr := terminalPrompter{g}.PromptSecret("passphrase for " + keyFile)
		if perr != nil {
			return perr
		}
		pass = []byte(p)
		key, err = journal.LoadSigningKey(keyFile, pass)
	}
	if err != nil {
		return fmt.Errorf("cannot load the signing key %s: %w", keyFile, err)
	}
	sig, err := journal.Sign(runDir, key)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stderr, "signed %d journal lines (final hash %s) with key %s\n", sig.Lines, sig.Head, sig.Fingerprint)
	return nil
}

// writeReports writes report.html and report.json into the run directory.
func writeReports(runDir, lang string) error {
	r, err := reports.ReadRun(runDir)
	if err != nil {
		return err
	}
	if h, err := r.HistoryOf(runDir); err == nil {
		r.History = h
	}
	for file, format := range map[string]string{"report.html": reports.FormatHTML, "report.json": reports.FormatJSON} {
		f, err := createPrivate(filepath.Join(runDir, file))
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(f)
		err = reports.Render(bw, r, format, lang)
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	return nil
}

func newVerifyCommand(g *globalOptions) *cobra.Command {
	var pub string
	cmd := &cobra.Command{
		Use:   "verify RUN_DIR",
		Short: "Check a run's journal: hash chain, and the signature when there is one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var key []byte
			if pub != "" {
				k, err := journal.LoadPublicKey(pub)
				if err != nil {
					return usage("give the signer's public key (.pub)", "%v", err)
				}
				key = k
			}
			v, err := journal.VerifyRun(args[0], key)
			if err != nil {
				var ce *journal.ChainError
				var se *journal.SignatureError
				if errors.As(err, &ce) || errors.As(err, &se) {
					return fmt.Errorf("%w: TAMPERED: %v", engine.ErrStepFailed, err)
				}
				return err
			}
			fmt.Fprintf(g.stdout, "journal: %d lines, hash chain intact\nfinal hash: %s\n", v.Lines, v.Head)
			if v.TornBytes > 0 {
				fmt.Fprintf(g.stdout, "note: %d bytes of a torn last line (a crash while writing) were ignored\n", v.TornBytes)
			}
			switch {
			case v.Signature == nil:
				fmt.Fprintln(g.stdout, "signature: none (sign with `drbook report --sign KEY`)")
			case v.KeyTrusted:
				fmt.Fprintf(g.stdout, "signature: valid, by the key you gave (%s)\n", v.Signature.Fingerprint)
			default:
				fmt.Fprintf(g.stdout, "signature: valid for the key it carries (%s); pass --key to check it is the right key\n", v.Signature.Fingerprint)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&pub, "key", "", "the signer's ed25519 public key, to check the signature against")
	return cmd
}

func newHistoryCommand(g *globalOptions) *cobra.Command {
	var runbook, runsDir string
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Compare the measurements of earlier runs (e.g. downtime year over year)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := reports.History(runsDir, runbook)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "START\tRUNBOOK\tRESULT\tRTO\tMEASURED\tDOWNTIME\tCHAIN\tRUN")
			for _, e := range h {
				measured := "-"
				if e.RTOMeasured != nil {
					measured = e.RTOMeasured.String()
				}
				down := ""
				for i, d := range e.Downtime {
					if i > 0 {
						down += ", "
					}
					down += fmt.Sprintf("%s %s", d.Name, d.Total)
				}
				chain := "ok"
				if !e.Verified {
					chain = "BROKEN"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Start.Local().Format("2006-01-02 15:04"), cell(e.Runbook), cell(e.Result), e.RTO, measured, cell(down), chain, cell(e.RunDir))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&runbook, "runbook", "", "only runs of this runbook")
	cmd.Flags().StringVar(&runsDir, "runs-dir", "runs", "where the runs are")
	return cmd
}

func newRunsCommand(g *globalOptions) *cobra.Command {
	var runsDir string
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List runs with their state (passed, failed, interrupted, paused)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, err := os.ReadDir(runsDir)
			if err != nil {
				return fmt.Errorf("cannot list %s: %w (choose the folder with --runs-dir)", runsDir, err)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tRUNBOOK\tOPERATOR\tSTATE\tFINISHED\tINTERRUPTED")
			for _, e := range entries {
				if !e.IsDir() {
					continue
				}
				dir := filepath.Join(runsDir, e.Name())
				st, err := engine.ReadState(dir)
				if err != nil {
					fmt.Fprintf(tw, "%s\t?\t?\tunreadable: %s\t\t\n", cell(dir), cell(err.Error()))
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%v\n", cell(dir), cell(st.Start.Runbook), cell(st.Start.Operator), st.Status(), len(st.Finished), st.Interrupted)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&runsDir, "runs-dir", "runs", "where the runs are")
	return cmd
}

// cell is a journal's text as one table cell: a run directory's journal is
// a file anyone with access to it may have written, so its text is shown,
// never obeyed, and stays on its line.
func cell(s string) string { return screenText(oneLine(s)) }
