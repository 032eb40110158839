package main

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/drbook/drbook/i18n"
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
		Use:               "report RUN_DIR",
		Short:             "Render a run's report from its journal alone (html, md, json, junit)",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeRunDirs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(g, opts, args[0])
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "html", "html, md, json or junit")
	cmd.Flags().StringVarP(&opts.Out, "output", "o", "", "write to FILE instead of standard output")
	cmd.Flags().StringVar(&opts.Sign, "sign", "", "first sign the journal's final hash with this ed25519 private key (journal.sig)")
	cmd.RegisterFlagCompletionFunc("format", completeFixed(reports.Formats...))
	return cmd
}

func runReport(g *globalOptions, opts *reportOptions, runDir string) error {
	if !slices.Contains(reports.Formats, opts.Format) {
		return usage(text("use --format html, md, json or junit", "請使用 --format html、md、json 或 junit"), i18n.Errorf("unknown format %q", "不支援之格式 %q", opts.Format))
	}
	if err := needRunDir(runDir); err != nil {
		return err
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
		return i18n.Errorf("cannot load the signing key %s: %w", "無法載入簽章金鑰 %s：%w", keyFile, err)
	}
	sig, err := journal.Sign(runDir, key)
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stderr, messagesFor(g.Lang).Tf("report.signed", sig.Lines, sig.Head, sig.Fingerprint))
	return nil
}

// writeReports writes report.html and report.json into the run directory
// and returns the report, whose verdict the exit code follows.
func writeReports(runDir, lang string) (*reports.Report, error) {
	r, err := reports.ReadRun(runDir)
	if err != nil {
		return nil, err
	}
	if h, err := r.HistoryOf(runDir); err == nil {
		r.History = h
	}
	for file, format := range map[string]string{"report.html": reports.FormatHTML, "report.json": reports.FormatJSON} {
		if err := writePrivate(runDir, file, func(w io.Writer) error { return reports.Render(w, r, format, lang) }); err != nil {
			return r, err
		}
	}
	// The index lets a later run's history choose its runs without
	// reading this journal; it is rewritten with the reports.
	if err := reports.WriteIndex(runDir, r); err != nil {
		return r, fmt.Errorf("%s: %w", reports.IndexFileName, err)
	}
	return r, nil
}

// cell is a journal's text as one table cell: a run directory's journal is
// a file anyone with access to it may have written, so its text is shown,
// never obeyed, and stays on its line.
func cell(s string) string { return screenText(oneLine(s)) }

// writePrivate writes the new private file dir/name (createPrivate)
// through a buffer with write. An error of writing, flushing or closing
// is prefixed with name.
func writePrivate(dir, name string, write func(io.Writer) error) error {
	f, err := createPrivate(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
