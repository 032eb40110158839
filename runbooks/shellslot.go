package runbooks

import (
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"gopkg.in/yaml.v3"
	"mvdan.cc/sh/v3/syntax"
)

// A shell field's interpolations are placed at load time: the field is
// parsed as a shell script (mvdan.cc/sh, bash dialect, a superset of what
// sh and busybox ash accept) with a placeholder word for each ${{ … }},
// and each placeholder's position in the syntax tree says how the shell
// will read the value there. Where a value can be made literal text it is
// quoted for that position; where it cannot (inside single quotes, a
// here-document, backquotes, arithmetic, as the command name, as the code
// argument of eval or sh -c …) the runbook is refused at validate with the
// position of the ${{ and a way to write it safely. Single-quoting alone,
// as drbook did before, is safe only in the first of these.

// shellSlot is how a placed interpolation is written into the command.
type shellSlot int

const (
	// slotWord is an unquoted part of a word: the value is single-quoted.
	slotWord shellSlot = iota
	// slotDouble is inside "…": \ $ ` and " are escaped with a backslash.
	slotDouble
	// slotComment is inside a # comment: the value is quoted and its
	// newlines written as \n, so that it cannot end the comment.
	slotComment
	// slotVerbatim is raw() or a value that holds no shell syntax in any
	// position (a number, a boolean): written as it is.
	slotVerbatim
)

// shellWord quotes a value for slot; lists become one word per element
// outside quotes and their elements joined by spaces inside them.
func shellWord(v any, slot shellSlot) string {
	if r, ok := v.(Raw); ok {
		return string(r)
	}
	switch slot {
	case slotVerbatim:
		return plainText(v)
	case slotDouble:
		text := plainText(v)
		if list, ok := v.([]string); ok {
			text = strings.Join(list, " ")
		}
		return escapeDouble(text)
	case slotComment:
		return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(shellText(v))
	}
	return shellText(v)
}

// escapeDouble makes s literal inside double quotes: there only \ $ ` and "
// are special (a newline is kept as it is, and ! is history expansion
// only in an interactive bash).
func escapeDouble(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', '$', '`', '"':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// shellRefusal is an interpolation that no quoting makes safe where it
// stands.
type shellRefusal struct {
	msg, hint words
}

// placeholderFor is the word standing for part i while the field is
// parsed: letters and digits only, so that the parser keeps it whole in
// every position, and a prefix absent from the text, so that it is found
// only where a ${{ … }} was.
func placeholderFor(prefix string, i int) string { return fmt.Sprintf("%s%dx", prefix, i) }

// placeShell decides each expression part's slot. It returns, per part
// index, the refusals; a parse failure of the whole field is reported at
// index -1.
func placeShell(t *Template) map[int]shellRefusal {
	refusals := map[int]shellRefusal{}
	prefix := "drbookslot"
	var text strings.Builder
	for _, p := range t.Parts {
		text.WriteString(p.Literal)
	}
	for strings.Contains(text.String(), prefix) {
		prefix += "q"
	}
	need := false
	var src strings.Builder
	for i := range t.Parts {
		p := &t.Parts[i]
		if p.Expr == nil {
			src.WriteString(p.Literal)
			continue
		}
		if isRawCall(p.Expr.Source) || inertType(p.Expr) {
			p.slot = slotVerbatim
		} else {
			need = true
		}
		src.WriteString(placeholderFor(prefix, i))
	}
	if !need {
		return nil
	}
	script := src.String()
	f, err := syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
	if err != nil {
		refusals[-1] = shellRefusal{
			msg: say("cannot parse this shell command to see where its ${{ … }} values go: %s", "無法剖析此 shell 指令以判斷其 ${{ … }} 之值置於何處：%s",
				foreign(strings.TrimPrefix(err.Error(), ":"))),
			hint: say("fix the shell syntax; a value that is itself meant to be shell text is written raw(…)", "請修正 shell 語法；本身即為 shell 文字之值請寫成 raw(…)"),
		}
		return refusals
	}
	found := map[int]bool{}
	var stack []syntax.Node
	syntax.Walk(f, func(n syntax.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		var where string
		switch x := n.(type) {
		case *syntax.Lit:
			where = x.Value
		case *syntax.SglQuoted:
			where = x.Value
		case *syntax.Comment:
			where = x.Text
		default:
			return true
		}
		for i := range t.Parts {
			p := &t.Parts[i]
			if p.Expr == nil || p.slot == slotVerbatim {
				continue
			}
			ph := placeholderFor(prefix, i)
			at := strings.Index(where, ph)
			if at < 0 {
				continue
			}
			found[i] = true
			if backslashes(where[:at])%2 == 1 {
				refusals[i] = shellRefusal{msg: say("a backslash stands right before it, so the shell would read the quoting drbook adds as text and the value as code",
					"其前方緊接反斜線，shell 會將 drbook 加上之引號視為文字，而將該值當作程式碼"),
					hint: say("remove the backslash before ${{", "請刪除 ${{ 前之反斜線")}
				continue
			}
			slot, ref := classifyShell(stack, prefix)
			if ref != nil {
				refusals[i] = *ref
				continue
			}
			p.slot = slot
		}
		return true
	})
	for i, p := range t.Parts {
		if p.Expr != nil && p.slot != slotVerbatim && !found[i] {
			if _, refused := refusals[i]; !refused {
				refusals[i] = shellRefusal{msg: say("drbook cannot tell how the shell reads the value here", "drbook 無法判斷 shell 於此處如何解讀該值"),
					hint: say("put the value in a variable first: v=${{ … }}; then use \"$v\"", "請先將該值存入變數：v=${{ … }}；再使用 \"$v\"")}
			}
		}
	}
	return refusals
}

func backslashes(s string) int {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	return n
}

// isRawCall reports whether an expression is raw(…), the explicit opt-out.
func isRawCall(src string) bool {
	tree, err := parser.Parse(src)
	if err != nil {
		return false
	}
	call, ok := tree.Node.(*ast.CallNode)
	if !ok {
		return false
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	return ok && id.Value == "raw"
}

// inertType reports whether the expression's type is one whose text holds
// no shell syntax anywhere: integers ("-12") and booleans.
func inertType(e *Expr) bool {
	if e.program == nil {
		return false
	}
	t := e.program.Node().Type()
	if t == nil {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

var (
	hintSingle = say("close the single quotes around it, so it stands outside them: 'abc'${{ x }}'def'; if the quoted text is a program for another tool (awk, sed, sh -c), pass the value as its argument or variable instead (awk -v v=${{ x }} '…v…')",
		"請於其前後結束單引號，使其位於單引號之外：'abc'${{ x }}'def'；若引號內為其他工具（awk、sed、sh -c）之程式，請改以引數或變數傳入該值（awk -v v=${{ x }} '…v…'）")
	hintVar = say("set a shell variable first, v=${{ x }}; then use \"$v\" there", "請先設定 shell 變數 v=${{ x }}；再於該處使用 \"$v\"")
	// hintVarName is the hint of a value that bash would read as a
	// variable name.
	hintVarName = say("write the variable name in the runbook", "請將變數名稱直接寫在演練手冊中")
)

// classifyShell says how the shell reads the placeholder at the top of
// stack (a *Lit, *SglQuoted or *Comment and its ancestors, the file first).
func classifyShell(stack []syntax.Node, prefix string) (shellSlot, *shellRefusal) {
	refuse := func(msg, hint words) (shellSlot, *shellRefusal) {
		return 0, &shellRefusal{msg: msg, hint: hint}
	}
	leaf := stack[len(stack)-1]
	for i, n := range stack[:len(stack)-1] {
		child := stack[i+1]
		switch x := n.(type) {
		case *syntax.CmdSubst:
			if x.Backquotes {
				return refuse(say("it is inside `…` backquotes, where the shell removes one level of backslashes and a ` in the value would end the command", "其位於 `…` 反引號內，shell 會移除一層反斜線，值中之 ` 會結束該指令"), say("write $(…) instead of `…`", "請以 $(…) 取代 `…`"))
			}
		case *syntax.ArithmExp, *syntax.ArithmCmd, *syntax.LetClause, *syntax.CStyleLoop:
			return refuse(say("it is inside an arithmetic expression, where bash evaluates a value such as a[$(cmd)] as code", "其位於算術運算式內，bash 會將 a[$(cmd)] 之類之值當作程式碼執行"), say("compute the number in the expression instead, e.g. ${{ params.n + 1 }} (a number is written as it is)", "請改於運算式中計算數字，例如 ${{ params.n + 1 }}（數字會原樣寫入）"))
		case *syntax.ParamExp:
			return refuse(say("it is inside ${…}, where the quoting rules differ between shells", "其位於 ${…} 內，各 shell 之引號規則不同"), say("%s (or ${v…})", "%s（或 ${v…}）", hintVar))
		case *syntax.ExtGlob:
			return refuse(say("it is inside an extended glob pattern", "其位於延伸萬用字元（extended glob）樣式內"), hintVar)
		case *syntax.Redirect:
			if child == x.Hdoc {
				return refuse(say("it is inside a here-document, where a line of the value could end the document and the rest run as commands", "其位於 here-document 內，值中之一行可能結束該文件，其餘部分將被當作指令執行"), say("set a variable before the here-document, v=${{ x }}, and write $v in it (with an unquoted delimiter, <<EOF)", "請於 here-document 前設定變數 v=${{ x }}，並於其中寫 $v（結束標記不加引號，<<EOF）"))
			}
			if x.Op == syntax.Hdoc || x.Op == syntax.DashHdoc {
				return refuse(say("it is the delimiter of a here-document", "其為 here-document 之結束標記"), say("write the delimiter in the runbook", "請將結束標記直接寫在演練手冊中"))
			}
			if child == x.N {
				return refuse(say("it is a redirection's file descriptor", "其為重新導向之檔案描述元"), say("write the descriptor in the runbook", "請將檔案描述元直接寫在演練手冊中"))
			}
		case *syntax.Assign:
			if child == x.Name || (x.Index != nil && child == x.Index) {
				return refuse(say("it is part of a variable name or array index, which the shell evaluates", "其為變數名稱或陣列索引之一部分，shell 會加以求值"), say("write the variable name in the runbook; put the value after the =", "請將變數名稱直接寫在演練手冊中；值置於 = 之後"))
			}
			if x.Naked {
				return refuse(say("it is a variable name given to declare, export, local or readonly", "其為交給 declare、export、local 或 readonly 之變數名稱"), say("write the name in the runbook and the value after the =: export NAME=${{ x }}", "請將名稱直接寫在演練手冊中，值置於 = 之後：export NAME=${{ x }}"))
			}
		case *syntax.BinaryTest:
			switch x.Op {
			case syntax.TsEql, syntax.TsNeq, syntax.TsLeq, syntax.TsGeq, syntax.TsLss, syntax.TsGtr:
				return refuse(say("it is an operand of an arithmetic comparison inside [[ ]], which bash evaluates as arithmetic (a[$(cmd)] runs cmd)", "其為 [[ ]] 內算術比較之運算元，bash 會以算術求值（a[$(cmd)] 會執行 cmd）"), say("compare with [ … ] (test does not evaluate), or make the value a number in the expression", "請改用 [ … ] 比較（test 不求值），或於運算式中將該值轉為數字"))
			}
		case *syntax.UnaryTest:
			if x.Op == syntax.TsVarSet || x.Op == syntax.TsRefVar {
				return refuse(say("it is a variable name tested with -v or -R, which bash evaluates", "其為以 -v 或 -R 檢查之變數名稱，bash 會加以求值"), hintVarName)
			}
		case *syntax.CoprocClause:
			if child == x.Name {
				return refuse(say("it names a coprocess", "其為 coprocess 之名稱"), say("write the name in the runbook", "請將名稱直接寫在演練手冊中"))
			}
		case *syntax.CallExpr:
			word, ok := child.(*syntax.Word)
			if !ok {
				continue
			}
			if msg, hint := codeArgument(x, word, prefix); msg.en != "" {
				return refuse(msg, hint)
			}
		}
	}
	switch leaf.(type) {
	case *syntax.Comment:
		return slotComment, nil
	case *syntax.SglQuoted:
		return refuse(say("it is inside single quotes, where the shell takes everything literally, so drbook cannot quote the value: a ' in it would end the quotes and the rest would be read as commands", "其位於單引號內，shell 完全照字面解讀，drbook 無法為該值加引號：值中之 ' 會結束引號，其餘部分將被當作指令"), hintSingle)
	case *syntax.Lit:
		if len(stack) >= 2 {
			switch stack[len(stack)-2].(type) {
			case *syntax.DblQuoted:
				return slotDouble, nil
			case *syntax.Word:
				return slotWord, nil
			}
		}
	}
	return refuse(say("drbook cannot tell how the shell reads the value here", "drbook 無法判斷 shell 於此處如何解讀該值"), hintVar)
}

// commandRunners run their first operand as a command; the value is the
// list of their one-letter options that take a value.
var commandRunners = map[string]string{"exec": "a", "command": "", "builtin": "", "sudo": "CDghpRrTtUu", "env": "CSu",
	"nohup": "", "nice": "n", "setsid": "", "stdbuf": "ieo", "timeout": "ks", "time": "fo", "xargs": "adEeIiLlnPs", "chroot": ""}

// shellNames are the programs whose -c operand is a script.
var shellNames = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "ksh": true, "mksh": true, "zsh": true, "busybox": true, "su": true, "runuser": true}

// codeArgument says why word, an argument of call, is read as a command or
// as code ("" when it is plain data); prefix starts the placeholders.
func codeArgument(call *syntax.CallExpr, word *syntax.Word, prefix string) (msg, hint words) {
	idx := -1
	for i, w := range call.Args {
		if w == word {
			idx = i
		}
	}
	if idx < 0 {
		return noHint, noHint
	}
	hintName := say("write the program in the runbook and pass the value as an argument; if the value really is a command line meant to run, write raw(…)",
		"請將程式直接寫在演練手冊中，並以引數傳入該值；若該值確為要執行之指令列，請寫 raw(…)")
	hintCode := say("pass the value as an argument of the script instead: sh -c 'echo \"$1\"' sh ${{ x }}", "請改以腳本之引數傳入該值：sh -c 'echo \"$1\"' sh ${{ x }}")
	lits := make([]string, len(call.Args))
	for i, w := range call.Args {
		lits[i] = w.Lit()
	}
	// The command name, including the one that exec, sudo, env, nohup …
	// run: past their options (and the values of those that take one),
	// env's NAME=value and timeout's duration.
	name := 0
	for name < len(lits) {
		valued, ok := commandRunners[path.Base(lits[name])]
		if !ok {
			break
		}
		runner := path.Base(lits[name])
		name++
		for name < len(lits) {
			w := lits[name]
			switch {
			case w == "--":
				name++
			case strings.HasPrefix(w, "-") && len(w) > 1:
				name++
				if len(w) == 2 && strings.IndexByte(valued, w[1]) >= 0 {
					name++
				}
				continue
			case runner == "env" && strings.Contains(w, "="):
				name++
				continue
			case runner == "timeout" && w != "" && strings.Trim(w, "0123456789.smhd") == "":
				name++
			}
			break
		}
	}
	if idx == name || idx == 0 {
		return say("it is the command name, so the value would be run as a program", "其為指令名稱，該值將被當作程式執行"), hintName
	}
	switch lits[0] {
	case "eval", "trap", "let":
		return say("it is an argument of %s, which runs its arguments as shell code", "其為 %s 之引數，該指令會將引數當作 shell 程式碼執行", lits[0]), hintCode
	case "unset", "read", "mapfile", "readarray":
		// Variable names: bash evaluates an array index in them (unset
		// 'a[$(cmd)]' runs cmd).
		return say("it is an argument of %s, which takes variable names whose array index bash evaluates", "其為 %s 之引數，該指令接受變數名稱，bash 會對其陣列索引求值", lits[0]), hintVarName
	case "printf", "test", "[":
		if f := lits[idx-1]; f == "-v" || (lits[0] != "printf" && f == "-R") {
			return say("it is the variable name after %s %s, whose array index bash evaluates", "其為 %s %s 之後之變數名稱，bash 會對其陣列索引求值", lits[0], f), hintVarName
		}
	}
	// ssh HOST CMD…: the remote shell parses the words after the host again.
	if r := sshRemoteStart(lits[:idx+1]); r >= 0 && idx >= r {
		return say("it is part of the command that ssh sends to another machine, whose shell parses it again as code", "其為 ssh 送往另一台機器之指令之一部分，該機器之 shell 會再次將其當作程式碼剖析"),
			say("run the command on that machine with its own ssh.exec step (a guest in the site), where drbook quotes the value for that shell", "請以該機器自己之 ssh.exec 步驟（場域中之客體）執行該指令，drbook 會依該 shell 為值加引號")
	}
	// ssh's options and destination: a value that starts the word could
	// start with "-" and be an option (-oProxyCommand=… runs a command).
	if sshAt(lits[:idx]) && startsWithValue(word, prefix) && !slices.Contains(lits[:idx], "--") && !sshValuedOption(lits[idx-1]) {
		return say("it starts an argument of ssh, where a value beginning with - is read as an option (-oProxyCommand=CMD runs CMD)", "其位於 ssh 引數之開頭，以 - 開頭之值會被當作選項（-oProxyCommand=CMD 會執行 CMD）"),
			say("write the user before it (root@${{ x }}) or put -- before the destination", "請於其前寫上使用者（root@${{ x }}），或於目的地前加上 --")
	}
	// sh -c SCRIPT, bash -ec SCRIPT, sudo sh -c SCRIPT, su - user -c SCRIPT.
	for i := 0; i < idx; i++ {
		if !shellNames[path.Base(lits[i])] {
			continue
		}
		for j := i + 1; j < idx; j++ {
			f := lits[j]
			if f == "--" || !strings.HasPrefix(f, "-") {
				if lits[i] != "su" && lits[i] != "runuser" {
					break
				}
				continue
			}
			if !strings.HasPrefix(f, "--") && strings.Contains(f, "c") && j+1 == idx {
				return say("it is the script of %s %s, which that shell parses again as code", "其為 %s %s 之腳本，該 shell 會再次將其當作程式碼剖析", path.Base(lits[i]), f), hintCode
			}
		}
	}
	return noHint, noHint
}

// placeShellTemplate places t's interpolations and reports refusals at the
// ${{ of each, found in the source so that block scalars and quoted
// scalars point at the right column.
func placeShellTemplate(t *Template, file string, errs *ErrorList) bool {
	refusals := placeShell(t)
	if len(refusals) == 0 {
		return true
	}
	if r, ok := refusals[-1]; ok {
		errs.add(posOf(file, t.Node), r.msg, r.hint)
		return false
	}
	k := 0
	for i, p := range t.Parts {
		if p.Expr == nil {
			continue
		}
		if r, ok := refusals[i]; ok {
			pos := interpolationPos(errs, file, t.Node, k, p.Expr.Pos)
			errs.add(pos, say("`${{ %s }}` cannot be put into this shell command safely: %s", "`${{ %s }}` 無法安全置入此 shell 指令：%s", p.Expr.Source, r.msg), r.hint)
		}
		k++
	}
	return false
}

// interpolationPos finds the k-th "${{" of a scalar in the source text,
// from the scalar's start; fallback is used when the source is not known.
func interpolationPos(errs *ErrorList, file string, n *yaml.Node, k int, fallback Pos) Pos {
	lines := errs.sources[file]
	if n == nil || n.Line < 1 || n.Line > len(lines) {
		fallback.Column -= 3
		return fallback
	}
	seen := 0
	for ln := n.Line; ln <= len(lines); ln++ {
		line := lines[ln-1]
		from := 0
		if ln == n.Line {
			from = byteAtColumn(line, n.Column)
		}
		for {
			j := strings.Index(line[from:], "${{")
			if j < 0 {
				break
			}
			if seen == k {
				return Pos{File: file, Line: ln, Column: utf8.RuneCountInString(line[:from+j]) + 1}
			}
			seen++
			from += j + 3
		}
	}
	fallback.Column -= 3
	return fallback
}

func byteAtColumn(line string, col int) int {
	i := 0
	for c := 1; c < col && i < len(line); c++ {
		_, size := utf8.DecodeRuneInString(line[i:])
		i += size
	}
	return i
}

// argvScript returns the index of the element of an argument vector that
// a shell will parse as a script (the operand of -c in [sh, -c, SCRIPT],
// [sudo, bash, -ec, SCRIPT], [env, X=1, sh, -c, SCRIPT]), or -1.
func argvScript(seq *yaml.Node) int {
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return -1
	}
	words := make([]string, len(seq.Content))
	for i, c := range seq.Content {
		if c.Kind == yaml.ScalarNode {
			words[i] = c.Value
		}
	}
	for i, w := range words {
		if !shellNames[path.Base(w)] {
			continue
		}
		for j := i + 1; j < len(words); j++ {
			f := words[j]
			if f == "--" || !strings.HasPrefix(f, "-") {
				if w != "su" && w != "runuser" {
					break
				}
				continue
			}
			if !strings.HasPrefix(f, "--") && strings.Contains(f, "c") && j+1 < len(words) {
				return j + 1
			}
		}
	}
	return -1
}

// argvScripts lists the scalars of the argument-vector fields of params
// (tagged `drbook:"argv"`) that a shell will parse as scripts, and the
// groups of scalars that ssh joins with spaces into one remote command
// line, which the remote login shell parses.
func argvScripts(params *yaml.Node, t reflect.Type) (scripts map[*yaml.Node]bool, remote []remoteArgv) {
	argv := pathsTagged(t, "argv")
	scripts = map[*yaml.Node]bool{}
	if len(argv) == 0 || params == nil || params.Kind != yaml.MappingNode {
		return scripts, nil
	}
	for i := 0; i+1 < len(params.Content); i += 2 {
		if !argv[params.Content[i].Value] {
			continue
		}
		seq := params.Content[i+1]
		if j := argvScript(seq); j >= 0 {
			scripts[seq.Content[j]] = true
		}
		if j := argvRemote(seq); j >= 0 {
			remote = append(remote, remoteArgv{seq: seq, start: j})
		}
	}
	return scripts, remote
}

// remoteArgv is an argument vector that runs ssh; its elements from start
// on are the remote command.
type remoteArgv struct {
	seq   *yaml.Node
	start int
}

// sshValued are ssh's options that take a value as the next argument.
const sshValued = "BbcDEeFIiJLlmOoPpQRSWw"

// sshValuedOption reports whether w is an ssh option whose value is the
// next argument (-i, -p, -o …).
func sshValuedOption(w string) bool {
	return len(w) == 2 && w[0] == '-' && strings.IndexByte(sshValued, w[1]) >= 0
}

// sshAt reports whether words (a command's words before one) include ssh.
func sshAt(words []string) bool {
	for _, w := range words {
		if path.Base(w) == "ssh" {
			return true
		}
	}
	return false
}

// startsWithValue reports whether an interpolation begins the word.
func startsWithValue(w *syntax.Word, prefix string) bool {
	if len(w.Parts) == 0 {
		return false
	}
	switch p := w.Parts[0].(type) {
	case *syntax.Lit:
		return strings.HasPrefix(p.Value, prefix)
	case *syntax.DblQuoted:
		if len(p.Parts) > 0 {
			if l, ok := p.Parts[0].(*syntax.Lit); ok {
				return strings.HasPrefix(l.Value, prefix)
			}
		}
	}
	return false
}

// sshRemoteStart is argvRemote over words: the index of the first word of
// the remote command after ssh and its destination, or -1.
func sshRemoteStart(words []string) int {
	for i, w := range words {
		if path.Base(w) != "ssh" {
			continue
		}
		for j := i + 1; j < len(words); j++ {
			w := words[j]
			switch {
			case w == "--":
				return j + 2
			case strings.HasPrefix(w, "-") && len(w) > 1:
				if k := strings.IndexAny(w[1:], sshValued); k >= 0 && k == len(w)-2 {
					j++
				}
			default:
				return j + 1
			}
		}
		return -1
	}
	return -1
}

// argvRemote returns the index of the first element of the remote command
// in [ssh, OPTIONS…, DESTINATION, COMMAND…] (also after sudo, env …), or
// -1.
func argvRemote(seq *yaml.Node) int {
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return -1
	}
	words := make([]string, len(seq.Content))
	for i, c := range seq.Content {
		words[i] = c.Value
	}
	if r := sshRemoteStart(words); r >= 0 && r < len(words) {
		return r
	}
	return -1
}

// placeRemoteArgv places the interpolations of the elements of an ssh
// remote command, which ssh joins with spaces into one line for the
// remote shell: the joined line is what is parsed. Each element's
// template becomes a shell template with the slots found there; refusals
// are reported at each element's ${{.
func placeRemoteArgv(ra remoteArgv, templates map[*yaml.Node]*Template, file string, errs *ErrorList) {
	// Before the remote command: ssh's options and destination, where a
	// value beginning with - would be an option.
	dashes := false
	for i, n := range ra.seq.Content[:ra.start] {
		dashes = dashes || n.Value == "--"
		if t := templates[n]; t != nil && !dashes && len(t.Parts) > 0 && t.Parts[0].Expr != nil && (i == 0 || !sshValuedOption(ra.seq.Content[i-1].Value)) {
			e := t.Parts[0].Expr
			if isRawCall(e.Source) || inertType(e) {
				continue
			}
			errs.add(interpolationPos(errs, file, n, 0, e.Pos),
				say("`${{ %s }}` starts an argument of ssh, where a value beginning with - is read as an option (-oProxyCommand=CMD runs CMD)", "`${{ %s }}` 位於 ssh 引數之開頭，以 - 開頭之值會被當作選項（-oProxyCommand=CMD 會執行 CMD）", e.Source),
				say("write the user before it (root@${{ x }}) or put \"--\" before the destination", "請於其前寫上使用者（root@${{ x }}），或於目的地前加上 \"--\""))
		}
	}
	group := ra.seq.Content[ra.start:]
	type origin struct {
		n    *yaml.Node
		part int // index in the element's template
		k    int // its rank among the element's expressions
	}
	joined := &Template{Shell: true}
	var from []origin
	any := false
	for i, n := range group {
		if i > 0 {
			joined.Parts = append(joined.Parts, TemplatePart{Literal: " "})
			from = append(from, origin{})
		}
		t := templates[n]
		if t == nil {
			joined.Parts = append(joined.Parts, TemplatePart{Literal: n.Value})
			from = append(from, origin{})
			continue
		}
		any = true
		k := 0
		for j, p := range t.Parts {
			joined.Parts = append(joined.Parts, p)
			from = append(from, origin{n: n, part: j, k: k})
			if p.Expr != nil {
				k++
			}
		}
	}
	if !any {
		return
	}
	refusals := placeShell(joined)
	if r, ok := refusals[-1]; ok {
		errs.add(posOf(file, group[0]), say("%s (ssh joins the arguments after the destination into one command line for the remote shell)", "%s（ssh 會將目的地之後之引數併成一行指令交給遠端 shell）", r.msg), r.hint)
		return
	}
	for i, p := range joined.Parts {
		o := from[i]
		if p.Expr == nil || o.n == nil {
			continue
		}
		if r, ok := refusals[i]; ok {
			errs.add(interpolationPos(errs, file, o.n, o.k, p.Expr.Pos), say("`${{ %s }}` cannot be put into this remote command safely: %s", "`${{ %s }}` 無法安全置入此遠端指令：%s", p.Expr.Source, r.msg), r.hint)
			continue
		}
		t := templates[o.n]
		t.Shell = true
		t.Parts[o.part].slot = p.slot
	}
}
