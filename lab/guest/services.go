package guest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemon is a running service. Most are bookkeeping only (a pid and a
// running state); httpd also serves real HTTP.
type daemon struct {
	name string
	pid  int
	http *http.Server
}

func (d *daemon) stop() {
	if d.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if d.http.Shutdown(ctx) != nil {
			d.http.Close()
		}
	}
}

// serviceLabels are the names RHEL 5's init scripts print, where they
// differ from the script's name.
var serviceLabels = map[string]string{"sshd": "sshd", "smb": "SMB services", "snmpd": "snmpd", "crond": "crond"}

// statusNames are what "status" prints for a script (sshd's is
// "openssh-daemon" on RHEL 5).
var statusNames = map[string]string{"sshd": "openssh-daemon"}

// serviceCommand is /sbin/service: "service NAME ACTION".
func serviceCommand(ctx context.Context, p *proc, args []string) error {
	if len(args) == 2 && (args[1] == "--status-all") {
		var code int
		for _, name := range p.g.initScripts() {
			code = max(code, p.g.serviceAction(ctx, name, "status", p.stdout, p.stderr, p.tty))
		}
		return exitCode(0)
	}
	if len(args) < 2 {
		fmt.Fprintln(p.stdout, "Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]")
		return exitCode(1)
	}
	name := path.Base(args[1])
	if _, err := p.fs().Stat("/etc/rc.d/init.d/" + name); err != nil {
		fmt.Fprintf(p.stdout, "%s: unrecognized service\n", name)
		return exitCode(1)
	}
	action := ""
	if len(args) > 2 {
		action = args[2]
	}
	if p.user.uid != 0 && action != "status" {
		// Init scripts check this themselves on RHEL 5 (exit 4).
		fmt.Fprintf(p.stderr, "%s: user had insufficient privilege\n", name)
		return exitCode(4)
	}
	return exitCode(p.g.serviceAction(ctx, name, action, p.stdout, p.stderr, p.tty))
}

// initScripts lists /etc/rc.d/init.d.
func (g *Guest) initScripts() []string {
	infos, err := g.fs.ReadDir("/etc/rc.d/init.d")
	if err != nil {
		return nil
	}
	var names []string
	for _, fi := range infos {
		if fi.Name() != "functions" && !fi.IsDir() {
			names = append(names, fi.Name())
		}
	}
	return names
}

func (g *Guest) serviceAction(ctx context.Context, name, action string, stdout, stderr io.Writer, tty bool) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.powered {
		return 1
	}
	return g.serviceActionLocked(ctx, name, action, stdout, stderr, tty)
}

// serviceActionLocked runs an init script action with RHEL 5's messages
// and exit codes (LSB: status 3 when stopped).
func (g *Guest) serviceActionLocked(ctx context.Context, name, action string, stdout, stderr io.Writer, tty bool) int {
	label := serviceLabels[name]
	if label == "" {
		label = name
	}
	d := g.services[name]
	result := func(ok bool) int {
		fmt.Fprintln(stdout, statusTag(ok, tty))
		if ok {
			return 0
		}
		return 1
	}
	switch action {
	case "start":
		fmt.Fprintf(stdout, "Starting %s: ", label)
		if d != nil {
			return result(true)
		}
		return result(g.startLocked(name, stderr) == nil)
	case "stop":
		fmt.Fprintf(stdout, "Stopping %s: ", label)
		if d == nil {
			return result(false)
		}
		d.stop()
		delete(g.services, name)
		return result(true)
	case "restart":
		fmt.Fprintf(stdout, "Stopping %s: ", label)
		if d != nil {
			d.stop()
			delete(g.services, name)
			fmt.Fprintln(stdout, statusTag(true, tty))
		} else {
			fmt.Fprintln(stdout, statusTag(false, tty))
		}
		fmt.Fprintf(stdout, "Starting %s: ", label)
		return result(g.startLocked(name, stderr) == nil)
	case "reload", "graceful":
		if d == nil {
			fmt.Fprintf(stdout, "Reloading %s: ", label)
			return result(false)
		}
		fmt.Fprintf(stdout, "Reloading %s: ", label)
		d.stop()
		delete(g.services, name)
		return result(g.startLocked(name, stderr) == nil)
	case "condrestart":
		if d == nil {
			return 0
		}
		return g.serviceActionLocked(ctx, name, "restart", stdout, stderr, tty)
	case "status":
		shown := statusNames[name]
		if shown == "" {
			shown = name
		}
		if d == nil {
			fmt.Fprintf(stdout, "%s is stopped\n", shown)
			return 3
		}
		fmt.Fprintf(stdout, "%s (pid %d) is running...\n", shown, d.pid)
		return 0
	case "configtest":
		if name != "httpd" {
			break
		}
		if _, err := g.readHTTPDConf(); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stderr, "Syntax OK")
		return 0
	}
	fmt.Fprintf(stdout, "Usage: %s {start|stop|restart|condrestart|reload|status}\n", name)
	return 2
}

// statusTag is the init scripts' [  OK  ] / [FAILED], in column 60 as
// /etc/init.d/functions puts it.
func statusTag(ok bool, tty bool) string {
	tag := "[  OK  ]"
	if !ok {
		tag = "[FAILED]"
	}
	if tty {
		return "\033[60G" + tag
	}
	return tag
}

// startLocked starts one service. Only httpd does real work; the others
// (sshd, crond, smb, …) are running/stopped bookkeeping.
func (g *Guest) startLocked(name string, stderr io.Writer) error {
	d := &daemon{name: name, pid: g.nextPID}
	g.nextPID += 7
	if name == "httpd" {
		srv, err := g.startHTTPD(stderr)
		if err != nil {
			return err
		}
		d.http = srv
	}
	g.services[name] = d
	return nil
}

// httpdConf is the part of httpd.conf the simulated httpd obeys.
type httpdConf struct {
	listens      []string
	serverName   string
	documentRoot string
	aliases      [][2]string // URL prefix, directory
}

const httpdConfPath = "/etc/httpd/conf/httpd.conf"

// readHTTPDConf parses httpd.conf from the guest's files as they are now.
// Directives the simulation does not model are accepted and ignored.
func (g *Guest) readHTTPDConf() (httpdConf, error) {
	conf := httpdConf{documentRoot: "/var/www/html"}
	data, err := g.fs.ReadFile(httpdConfPath)
	if err != nil {
		return conf, fmt.Errorf("httpd: Could not open configuration file %s: %s", httpdConfPath, errText(err))
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		arg := func() (string, error) {
			if len(fields) < 2 {
				return "", fmt.Errorf("Syntax error on line %d of %s:\n%s takes one argument, The address and port to listen on", n, httpdConfPath, fields[0])
			}
			return strings.Trim(fields[1], `"`), nil
		}
		var err error
		switch strings.ToLower(fields[0]) {
		case "listen":
			var v string
			if v, err = arg(); err == nil {
				conf.listens = append(conf.listens, v)
			}
		case "servername":
			conf.serverName, err = arg()
		case "documentroot":
			conf.documentRoot, err = arg()
		case "alias":
			if len(fields) != 3 {
				err = fmt.Errorf("Syntax error on line %d of %s:\nAlias takes two arguments, a fakename and a realname", n, httpdConfPath)
				break
			}
			conf.aliases = append(conf.aliases, [2]string{strings.Trim(fields[1], `"`), strings.Trim(fields[2], `"`)})
		}
		if err != nil {
			return conf, err
		}
	}
	return conf, nil
}

// startHTTPD binds httpd's Listen addresses and serves DocumentRoot. A
// Listen address that is not this guest's fails as bind(2) would.
func (g *Guest) startHTTPD(stderr io.Writer) (*http.Server, error) {
	conf, err := g.readHTTPDConf()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, err
	}
	if conf.serverName == "" {
		fmt.Fprintf(stderr, "httpd: Could not reliably determine the server's fully qualified domain name, using %s for ServerName\n", g.cfg.Address)
	}
	if fi, err := g.fs.Stat(conf.documentRoot); err != nil || !fi.IsDir() {
		fmt.Fprintf(stderr, "Warning: DocumentRoot [%s] does not exist\n", conf.documentRoot)
	}
	var listeners []net.Listener
	fail := func(err error) (*http.Server, error) {
		for _, l := range listeners {
			l.Close()
		}
		return nil, err
	}
	for _, l := range conf.listens {
		host, port, ok := strings.Cut(l, ":")
		if !ok {
			host, port = "", l
		}
		if strings.Contains(l, "]") || strings.Count(l, ":") > 1 {
			return fail(bindFailure(stderr, l, syscall.EADDRNOTAVAIL))
		}
		if _, err := strconv.Atoi(port); err != nil {
			fmt.Fprintf(stderr, "Syntax error on line of %s:\nPort must be specified\n", httpdConfPath)
			return fail(errors.New("bad Listen"))
		}
		shown := host + ":" + port
		if host == "" || host == "*" || host == "0.0.0.0" {
			host, shown = g.cfg.Address, "0.0.0.0:"+port
		} else if host != g.cfg.Address {
			// The guest owns only its own address; binding any other
			// (the source server's IP left in a restored httpd.conf) is
			// exactly the failure the drill must catch.
			return fail(bindFailure(stderr, shown, syscall.EADDRNOTAVAIL))
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			errno := syscall.EADDRINUSE
			if !errors.Is(err, syscall.EADDRINUSE) {
				errno = syscall.EACCES
			}
			return fail(bindFailure(stderr, shown, errno))
		}
		listeners = append(listeners, ln)
	}
	if len(listeners) == 0 {
		fmt.Fprintln(stderr, "no listening sockets available, shutting down\nUnable to open logs")
		return nil, errors.New("no Listen")
	}
	srv := &http.Server{Handler: g.httpHandler(conf), ReadHeaderTimeout: 5 * time.Second}
	for _, ln := range listeners {
		go srv.Serve(ln)
	}
	return srv, nil
}

func bindFailure(stderr io.Writer, addr string, errno syscall.Errno) error {
	fmt.Fprintf(stderr, "(%d)%s: make_sock: could not bind to address %s\n", int(errno), errText(errno), addr)
	fmt.Fprintln(stderr, "no listening sockets available, shutting down")
	fmt.Fprintln(stderr, "Unable to open logs")
	return errno
}

// httpHandler serves DocumentRoot from the guest's files as they are at
// request time, like Apache does.
func (g *Guest) httpHandler(conf httpdConf) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.FS(guestFS{g.fs, conf.documentRoot})))
	for _, a := range conf.aliases {
		prefix := strings.TrimSuffix(a[0], "/")
		files := http.StripPrefix(prefix, http.FileServer(http.FS(guestFS{g.fs, a[1]})))
		mux.Handle(prefix+"/", files)
		mux.Handle(prefix, http.RedirectHandler(prefix+"/", http.StatusMovedPermanently))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Apache/2.2.3 (Red Hat)")
		mux.ServeHTTP(w, r)
	})
}

// guestFS is an fs.FS over a directory of the guest.
type guestFS struct {
	sb  *sandbox
	dir string
}

func (f guestFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	file, err := f.sb.OpenFile(path.Join(f.dir, name), os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	return file, nil
}

// enabledServices lists the services with a start link in runlevel 3,
// in the order init would start them (by S number).
func (g *Guest) enabledServices() []string {
	infos, err := g.fs.ReadDir("/etc/rc.d/rc3.d")
	if err != nil {
		return nil
	}
	var names []string
	for _, fi := range infos {
		n := fi.Name()
		if len(n) > 3 && n[0] == 'S' {
			name := strings.TrimLeft(n[1:], "0123456789")
			if _, err := g.fs.Stat("/etc/rc.d/init.d/" + name); err == nil {
				names = append(names, name)
			}
		}
	}
	return names
}

// chkconfigPriorities are the start/stop numbers from RHEL 5's scripts'
// "# chkconfig:" headers.
var chkconfigPriorities = map[string][2]int{"httpd": {85, 15}, "sshd": {55, 25}, "crond": {90, 60}, "network": {10, 90}, "smb": {91, 35}, "snmpd": {50, 50}, "jboss": {98, 2}}

// chkconfigCommand is /sbin/chkconfig: "--list [NAME]", "NAME on|off",
// "--level LEVELS NAME on|off" and "NAME" (exit status only), kept in the
// /etc/rc.d/rcN.d links exactly where the real one keeps it.
func chkconfigCommand(ctx context.Context, p *proc, args []string) error {
	args = args[1:]
	levels := "2345"
	if len(args) >= 2 && args[0] == "--level" {
		levels, args = args[1], args[2:]
	}
	if len(args) == 0 || args[0] == "--list" {
		names := p.g.initScripts()
		if len(args) > 1 {
			names = []string{args[1]}
		}
		for _, name := range names {
			if _, err := p.fs().Stat("/etc/rc.d/init.d/" + name); err != nil {
				fmt.Fprintf(p.stderr, "error reading information on service %s: No such file or directory\n", name)
				return exitCode(1)
			}
			fmt.Fprintf(p.stdout, "%-15s", name)
			for lvl := 0; lvl <= 6; lvl++ {
				state := "off"
				if p.g.startLink(name, lvl) != "" {
					state = "on"
				}
				fmt.Fprintf(p.stdout, "\t%d:%s", lvl, state)
			}
			fmt.Fprintln(p.stdout)
		}
		return nil
	}
	name := args[0]
	if _, err := p.fs().Stat("/etc/rc.d/init.d/" + name); err != nil {
		fmt.Fprintf(p.stderr, "error reading information on service %s: No such file or directory\n", name)
		return exitCode(1)
	}
	if len(args) == 1 {
		if p.g.startLink(name, 3) != "" {
			return nil
		}
		return exitCode(1)
	}
	if p.user.uid != 0 {
		fmt.Fprintln(p.stderr, "You do not have enough privileges to perform this operation.")
		return exitCode(1)
	}
	on := false
	switch args[1] {
	case "on":
		on = true
	case "off":
	case "reset", "resetpriorities":
		on = slices.Contains([]string{"httpd", "sshd", "crond", "network"}, name)
	default:
		fmt.Fprintln(p.stderr, "chkconfig version 1.3.30.2 - Copyright (C) 1997-2000 Red Hat, Inc.")
		return exitCode(1)
	}
	prio, ok := chkconfigPriorities[name]
	if !ok {
		prio = [2]int{50, 50}
	}
	for lvl := 0; lvl <= 6; lvl++ {
		dir := fmt.Sprintf("/etc/rc.d/rc%d.d", lvl)
		if err := p.fs().MkdirAll(dir, 0o755); err != nil {
			p.pathErr("chkconfig", dir, err)
			return exitCode(1)
		}
		want := p.g.startLink(name, lvl) != ""
		if strings.ContainsRune(levels, rune('0'+lvl)) {
			want = on
		}
		for _, old := range []string{p.g.startLink(name, lvl), p.g.killLink(name, lvl)} {
			if old != "" {
				p.fs().Remove(dir + "/" + old)
			}
		}
		link := fmt.Sprintf("%s/K%02d%s", dir, prio[1], name)
		if want {
			link = fmt.Sprintf("%s/S%02d%s", dir, prio[0], name)
		}
		if err := p.fs().Symlink("../init.d/"+name, link); err != nil {
			p.pathErr("chkconfig", link, err)
			return exitCode(1)
		}
	}
	return nil
}

func (g *Guest) startLink(name string, lvl int) string { return g.rcLink(name, lvl, 'S') }
func (g *Guest) killLink(name string, lvl int) string  { return g.rcLink(name, lvl, 'K') }

func (g *Guest) rcLink(name string, lvl int, kind byte) string {
	infos, err := g.fs.ReadDir(fmt.Sprintf("/etc/rc.d/rc%d.d", lvl))
	if err != nil {
		return ""
	}
	for _, fi := range infos {
		n := fi.Name()
		if len(n) > 3 && n[0] == kind && strings.TrimLeft(n[1:], "0123456789") == name {
			return n
		}
	}
	return ""
}
