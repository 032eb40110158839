package main

import (
	_ "github.com/creack/pty"
	_ "github.com/expr-lang/expr"
	_ "github.com/pkg/sftp"
	_ "github.com/pmezard/go-difflib/difflib"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/spf13/cobra"
	_ "github.com/vmware/govmomi"
	_ "github.com/vmware/govmomi/simulator"
	_ "golang.org/x/crypto/ssh"
	_ "golang.org/x/term"
	_ "gopkg.in/yaml.v3"
	_ "mvdan.cc/sh/v3/interp"
)

func main() {}
