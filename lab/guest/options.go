package guest

import (
	"fmt"
	"strings"
)

// options is a parsed GNU-style command line: short flags (bundled or
// not), flags with a value ("-n 5", "-n5"), long flags mapped onto short
// ones ("--recursive", "--directory=DIR") and operands.
type options struct {
	set      map[byte][]string
	operands []string
}

func (o options) has(c byte) bool { _, ok := o.set[c]; return ok }

// val is the last value given for c, or def.
func (o options) val(c byte, def string) string {
	if v := o.set[c]; len(v) > 0 {
		return v[len(v)-1]
	}
	return def
}

// optSpec describes a program's options: flags are letters without a
// value, valued letters take one, longs maps a long name to its letter.
type optSpec struct {
	flags   string
	valued  string
	longs   map[string]byte
	inOrder bool // stop at the first operand (like sudo, find)
}

// parse parses args (without the program name). On an unknown option it
// prints GNU's message and returns ok false.
func (spec optSpec) parse(p *proc, prog string, args []string) (options, bool) {
	o := options{set: map[byte][]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			o.operands = append(o.operands, args[i+1:]...)
			return o, true
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			c, ok := spec.longs[name]
			if !ok {
				fmt.Fprintf(p.stderr, "%s: unrecognized option `%s'\nTry `%s --help' for more information.\n", prog, a, prog)
				return o, false
			}
			if strings.IndexByte(spec.valued, c) >= 0 && !hasVal {
				if i+1 >= len(args) {
					fmt.Fprintf(p.stderr, "%s: option `%s' requires an argument\n", prog, a)
					return o, false
				}
				i++
				val = args[i]
			}
			o.set[c] = append(o.set[c], val)
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				c := a[j]
				switch {
				case strings.IndexByte(spec.valued, c) >= 0:
					val := a[j+1:]
					if val == "" {
						if i+1 >= len(args) {
							fmt.Fprintf(p.stderr, "%s: option requires an argument -- %c\nTry `%s --help' for more information.\n", prog, c, prog)
							return o, false
						}
						i++
						val = args[i]
					}
					o.set[c] = append(o.set[c], val)
					j = len(a)
				case strings.IndexByte(spec.flags, c) >= 0:
					o.set[c] = append(o.set[c], "")
				default:
					fmt.Fprintf(p.stderr, "%s: invalid option -- %c\nTry `%s --help' for more information.\n", prog, c, prog)
					return o, false
				}
			}
		default:
			if spec.inOrder {
				o.operands = append(o.operands, args[i:]...)
				return o, true
			}
			o.operands = append(o.operands, a)
		}
	}
	return o, true
}
