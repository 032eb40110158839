package guest

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// sedAddr is a line address: a number, "$" or a regular expression.
type sedAddr struct {
	line int // 0 when not a line number
	last bool
	re   *regexp.Regexp
}

func (a *sedAddr) match(n int, last bool, line string) bool {
	switch {
	case a.re != nil:
		return a.re.MatchString(line)
	case a.last:
		return last
	}
	return n == a.line
}

// sedCmd is one command of a sed script.
type sedCmd struct {
	from, to *sedAddr
	negate   bool
	inRange  bool
	name     byte
	re       *regexp.Regexp
	repl     string
	global   bool
	nth      int
	print    bool
	text     string
}

// sedScript parses the subset of GNU sed 4.1 used to edit configuration
// files: addresses (N, $, /re/, ranges, !), s///[gpiN], d, p, q, a, i, c
// and y is not supported.
func parseSed(script string, extended bool) ([]*sedCmd, error) {
	var cmds []*sedCmd
	s := script
	compile := func(re string, icase bool) (*regexp.Regexp, error) {
		if !extended {
			re = breToERE(re)
		}
		if icase {
			re = "(?i)" + re
		}
		return regexp.Compile(re)
	}
	// delimited reads up to an unescaped delim, keeping escapes except of
	// the delimiter itself.
	delimited := func(delim byte) (string, error) {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				if s[i+1] == delim {
					b.WriteByte(delim)
				} else if s[i+1] == 'n' {
					b.WriteByte('\n')
				} else {
					b.WriteByte(c)
					b.WriteByte(s[i+1])
				}
				i++
				continue
			}
			if c == delim {
				s = s[i+1:]
				return b.String(), nil
			}
			b.WriteByte(c)
		}
		return "", fmt.Errorf("unterminated `s' command")
	}
	addr := func() (*sedAddr, error) {
		switch {
		case s == "":
			return nil, nil
		case s[0] == '$':
			s = s[1:]
			return &sedAddr{last: true}, nil
		case s[0] >= '0' && s[0] <= '9':
			i := 0
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			n, _ := strconv.Atoi(s[:i])
			s = s[i:]
			return &sedAddr{line: n}, nil
		case s[0] == '/' || s[0] == '\\':
			delim := byte('/')
			if s[0] == '\\' {
				delim, s = s[1], s[1:]
			}
			s = s[1:]
			pat, err := delimited(delim)
			if err != nil {
				return nil, fmt.Errorf("unterminated address regex")
			}
			icase := false
			if strings.HasPrefix(s, "I") {
				icase, s = true, s[1:]
			}
			re, err := compile(pat, icase)
			if err != nil {
				return nil, err
			}
			return &sedAddr{re: re}, nil
		}
		return nil, nil
	}
	for {
		s = strings.TrimLeft(s, " \t\n;")
		if s == "" {
			return cmds, nil
		}
		c := &sedCmd{}
		var err error
		if c.from, err = addr(); err != nil {
			return nil, err
		}
		if c.from != nil && strings.HasPrefix(s, ",") {
			s = s[1:]
			if c.to, err = addr(); err != nil || c.to == nil {
				return nil, fmt.Errorf("unexpected `,'")
			}
		}
		s = strings.TrimLeft(s, " \t")
		if strings.HasPrefix(s, "!") {
			c.negate, s = true, strings.TrimLeft(s[1:], " \t")
		}
		if s == "" {
			return nil, fmt.Errorf("missing command")
		}
		c.name, s = s[0], s[1:]
		switch c.name {
		case 's':
			if s == "" {
				return nil, fmt.Errorf("unterminated `s' command")
			}
			delim := s[0]
			s = s[1:]
			pat, err := delimited(delim)
			if err != nil {
				return nil, err
			}
			if c.repl, err = delimited(delim); err != nil {
				return nil, err
			}
			icase := false
			for s != "" && strings.IndexByte("gpiI0123456789", s[0]) >= 0 {
				switch f := s[0]; {
				case f == 'g':
					c.global = true
				case f == 'p':
					c.print = true
				case f == 'i' || f == 'I':
					icase = true
				default:
					c.nth = c.nth*10 + int(f-'0')
				}
				s = s[1:]
			}
			if c.re, err = compile(pat, icase); err != nil {
				return nil, fmt.Errorf("-e expression #1, char 0: %v", err)
			}
		case 'd', 'p', 'q', '=':
		case 'a', 'i', 'c':
			s = strings.TrimLeft(s, " \t")
			s = strings.TrimPrefix(s, "\\")
			s = strings.TrimPrefix(s, "\n")
			end := strings.IndexByte(s, '\n')
			if end < 0 {
				end = len(s)
			}
			c.text, s = strings.TrimLeft(s[:end], " \t"), s[end:]
		default:
			return nil, fmt.Errorf("-e expression #1, char 1: unknown command: `%c'", c.name)
		}
		cmds = append(cmds, c)
	}
}

// sedRepl converts sed's replacement (& and \1…\9) to Go's Expand syntax.
func sedRepl(repl string) string {
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '\\' && i+1 < len(repl):
			i++
			n := repl[i]
			switch {
			case n >= '0' && n <= '9':
				b.WriteString("${" + string(n) + "}")
			case n == 'n':
				b.WriteByte('\n')
			case n == 't':
				b.WriteByte('\t')
			case n == '$':
				b.WriteString("$$")
			default:
				b.WriteByte(n)
			}
		case c == '&':
			b.WriteString("${0}")
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (c *sedCmd) selects(n int, last bool, line string) bool {
	var hit bool
	switch {
	case c.from == nil:
		hit = true
	case c.to == nil:
		hit = c.from.match(n, last, line)
	case c.inRange:
		hit = true
		if c.to.match(n, last, line) || c.to.re == nil && !c.to.last && n >= c.to.line {
			c.inRange = false
		}
	case c.from.match(n, last, line):
		hit = true
		// A line-number end at or before the start closes the range at
		// once; a regex end is only looked for from the next line on.
		c.inRange = !(c.to.re == nil && !c.to.last && c.to.line <= n)
	}
	return hit != c.negate
}

// runSed applies cmds to text, returning the output and whether q ran.
func runSed(cmds []*sedCmd, text string, quiet bool) string {
	var out strings.Builder
	lines := splitLines(text)
	for _, c := range cmds {
		c.inRange = false
	}
	for i, line := range lines {
		n, last := i+1, i == len(lines)-1
		deleted, quit := false, false
		var appendText []string
		for _, c := range cmds {
			if !c.selects(n, last, line) {
				continue
			}
			switch c.name {
			case 's':
				count := 0
				repl := sedRepl(c.repl)
				changed := false
				line = c.re.ReplaceAllStringFunc(line, func(m string) string {
					count++
					if (c.nth > 0 && count != c.nth) || (!c.global && c.nth == 0 && count > 1) {
						return m
					}
					changed = true
					return string(c.re.ExpandString(nil, repl, m, c.re.FindStringSubmatchIndex(m)))
				})
				if changed && c.print {
					out.WriteString(line + "\n")
				}
			case 'd':
				deleted = true
			case 'p':
				out.WriteString(line + "\n")
			case '=':
				fmt.Fprintf(&out, "%d\n", n)
			case 'q':
				quit = true
			case 'a':
				appendText = append(appendText, c.text)
			case 'i':
				out.WriteString(c.text + "\n")
			case 'c':
				out.WriteString(c.text + "\n")
				deleted = true
			}
			if deleted || quit {
				break
			}
		}
		if !deleted && !quiet {
			out.WriteString(line + "\n")
		}
		for _, t := range appendText {
			out.WriteString(t + "\n")
		}
		if quit {
			break
		}
	}
	return out.String()
}

func sedCommand(ctx context.Context, p *proc, args []string) error {
	// -i takes an optional suffix attached to it; treat "-i.bak" by hand.
	var rest []string
	inPlace, suffix := false, ""
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "-i") && !strings.HasPrefix(a, "--") {
			inPlace, suffix = true, a[2:]
			continue
		}
		if strings.HasPrefix(a, "--in-place") {
			inPlace = true
			_, suffix, _ = strings.Cut(a, "=")
			continue
		}
		rest = append(rest, a)
	}
	o, ok := optSpec{flags: "nrEs", valued: "ef", longs: map[string]byte{"quiet": 'n', "silent": 'n', "expression": 'e', "file": 'f', "regexp-extended": 'r'}}.parse(p, "sed", rest)
	if !ok {
		return exitCode(1)
	}
	scripts := o.set['e']
	files := o.operands
	for _, f := range o.set['f'] {
		data, err := p.fs().ReadFile(p.abs(f))
		if err != nil {
			fmt.Fprintf(p.stderr, "sed: couldn't open file %s: %s\n", f, errText(err))
			return exitCode(1)
		}
		scripts = append(scripts, string(data))
	}
	if len(scripts) == 0 {
		if len(files) == 0 {
			fmt.Fprintln(p.stderr, "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...")
			return exitCode(4)
		}
		scripts, files = []string{files[0]}, files[1:]
	}
	cmds, err := parseSed(strings.Join(scripts, "\n"), o.has('r') || o.has('E'))
	if err != nil {
		p.errorf("sed", "%v", err)
		return exitCode(1)
	}
	if inPlace {
		if len(files) == 0 {
			fmt.Fprintln(p.stderr, "sed: no input files")
			return exitCode(4)
		}
		code := 0
		for _, f := range files {
			full := p.abs(f)
			fi, err := p.fs().Stat(full)
			var data []byte
			if err == nil {
				var file *os.File
				if file, err = p.openFile(full, os.O_RDONLY, 0); err == nil {
					data, err = io.ReadAll(file)
					file.Close()
				}
			}
			if err != nil {
				fmt.Fprintf(p.stderr, "sed: can't read %s: %s\n", f, errText(err))
				code = 2
				continue
			}
			if suffix != "" {
				backup := full + suffix
				if strings.Contains(suffix, "*") {
					backup = strings.ReplaceAll(suffix, "*", full)
				}
				if err := p.fs().WriteFile(backup, data, fi.Mode().Perm()); err != nil {
					fmt.Fprintf(p.stderr, "sed: cannot rename %s: %s\n", f, errText(err))
					code = 4
					continue
				}
			}
			// GNU sed writes a temporary file and renames it over the
			// original: the inode changes, the mode is kept.
			tmp := full + ".sedtmp"
			if err := p.fs().WriteFile(tmp, []byte(runSed(cmds, string(data), o.has('n'))), fi.Mode().Perm()); err != nil {
				fmt.Fprintf(p.stderr, "sed: couldn't open temporary file %s: %s\n", tmp, errText(err))
				code = 4
				continue
			}
			uid, gid := ownerOf(fi)
			p.fs().Lchown(tmp, uid, gid)
			if err := p.fs().Rename(tmp, full); err != nil {
				p.fs().Remove(tmp)
				fmt.Fprintf(p.stderr, "sed: cannot rename %s: %s\n", tmp, errText(err))
				code = 4
			}
		}
		return exitCode(code)
	}
	var text strings.Builder
	failed := p.inputs("sed", files, func(_ string, r io.Reader) {
		data, _ := io.ReadAll(r)
		text.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			text.WriteByte('\n')
		}
	})
	io.WriteString(p.stdout, runSed(cmds, text.String(), o.has('n')))
	if failed {
		return exitCode(2)
	}
	return nil
}
