package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/serve"
)

type serveOptions struct {
	Fleet     bool
	Addr      string
	TokenFile string
}

// AddFlags registers serve's flags.
func (o *serveOptions) AddFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.Fleet, "fleet", false, "RUNS_DIR is a fleet directory (or a folder of them): group the runs by site")
	f.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "address to listen on; any address off loopback needs a token")
	f.StringVar(&o.TokenFile, "token-file", "", "file holding the access token (else $DRBOOK_SERVE_TOKEN); required off loopback")
}

func newServeCommand(g *globalOptions) *cobra.Command {
	opts := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve RUNS_DIR",
		Short: "Read-only web view of running and finished runs, live (loopback unless given a token)",
		Long: "serve shows the runs in RUNS_DIR in a browser: a list, and a page per run whose steps, RTO\n" +
			"clock, monitors, evidence and journal follow a running journal live (server-sent events), with\n" +
			"the run's report. It reads journals only and changes nothing. It listens on loopback by\n" +
			"default; on any other address it needs a token (--token-file or DRBOOK_SERVE_TOKEN), given by\n" +
			"the browser once as ?token=… or by a client as Authorization: Bearer ….",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeDirs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), g, opts, args[0], nil)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// minTokenLength keeps a guessable word from guarding a drill's records.
const minTokenLength = 16

// serveToken is the access token from --token-file, else from
// DRBOOK_SERVE_TOKEN; "" when neither is given.
func serveToken(opts *serveOptions) (string, error) {
	token, from := os.Getenv("DRBOOK_SERVE_TOKEN"), "DRBOOK_SERVE_TOKEN"
	if opts.TokenFile != "" {
		b, err := os.ReadFile(opts.TokenFile)
		if err != nil {
			return "", usage(text("give a file holding the token, e.g. `head -c 32 /dev/urandom | base64 > FILE`", "請指定存放存取權杖之檔案，如 `head -c 32 /dev/urandom | base64 > FILE`"), i18n.Errorf("cannot read the token file: %v", "無法讀取存取權杖檔：%v", err))
		}
		token, from = string(b), opts.TokenFile
	}
	token = strings.TrimSpace(token)
	if (opts.TokenFile != "" || os.Getenv("DRBOOK_SERVE_TOKEN") != "") && len(token) < minTokenLength {
		return "", usage(text("use a random token, e.g. `head -c 32 /dev/urandom | base64 > FILE`", "請使用隨機產生之存取權杖，如 `head -c 32 /dev/urandom | base64 > FILE`"),
			i18n.Errorf("the token in %s is %d characters; it must be at least %d", "%s 中之存取權杖為 %d 個字元；至少須 %d 個", from, len(token), minTokenLength))
	}
	return token, nil
}

// loopbackAddr says whether a listen address (host:port) is on loopback
// only: a loopback IP, or a name all of whose addresses are loopback. ""
// and 0.0.0.0 listen everywhere.
func loopbackAddr(ctx context.Context, addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "" {
		return false, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback(), nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(ips) == 0 {
		return false, err
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return false, nil
		}
	}
	return true, nil
}

// runServe serves runsDir until ctx ends. ready, when set, receives the
// address it listens on (tests listen on port 0).
func runServe(ctx context.Context, g *globalOptions, opts *serveOptions, runsDir string, ready chan<- string) error {
	m := messagesFor(g.Lang)
	token, err := serveToken(opts)
	if err != nil {
		return err
	}
	loopback, err := loopbackAddr(ctx, opts.Addr)
	if err != nil {
		return usage(text("give --addr HOST:PORT, e.g. 127.0.0.1:8080", "請指定 --addr HOST:PORT，如 127.0.0.1:8080"), i18n.Errorf("cannot use --addr %q: %v", "無法使用 --addr %q：%v", opts.Addr, err))
	}
	if !loopback && token == "" {
		return usage(text("give --token-file FILE (or set DRBOOK_SERVE_TOKEN), or listen on loopback (--addr 127.0.0.1:8080)", "請指定 --token-file FILE（或設定 DRBOOK_SERVE_TOKEN），或接聽本機迴路位址（--addr 127.0.0.1:8080）"),
			i18n.Errorf("refusing to serve on %s without a token: it is not a loopback address, so anyone who can reach it would read the runs", "拒絕於無存取權杖下接聽 %s：該位址非本機迴路位址，任何可連線者均能讀取演練紀錄", opts.Addr))
	}
	srv, err := serve.New(serve.Config{RunsDir: runsDir, Fleet: opts.Fleet, Token: token, Lang: g.Lang})
	if err != nil {
		return usage(text("give the folder that holds the run directories (drbook run --runs-dir)", "請指定存放執行目錄之資料夾（drbook run --runs-dir）"), err)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return usage(text("choose another --addr (the port may be in use)", "請改用其他 --addr（該連接埠可能已被使用）"), i18n.Errorf("cannot listen on %s: %v", "無法接聽 %s：%v", opts.Addr, err))
	}
	httpSrv := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	url := "http://" + ln.Addr().String() + "/"
	fmt.Fprintln(g.stderr, m.Tf("serve.listening", runsDir, url))
	if token != "" {
		fmt.Fprintln(g.stderr, m.Tf("serve.token", url))
	} else {
		fmt.Fprintln(g.stderr, m.T("serve.loopback"))
	}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	srv.Close()
	// The run's context is over; the shutdown gets a few seconds of its own.
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdown); err != nil {
		httpSrv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(g.stderr, m.T("serve.stopped"))
	return nil
}
