package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
)

// Shell completion (`drbook completion bash|zsh|fish|powershell`, which
// cobra provides) completes run directories, step ids, formats and
// languages from what is on disk, reading only what it must: a run
// directory is one that holds a journal, and its step ids come from the
// journal's first line.

// completeRunDirs completes a RUN_DIR argument: run directories under the
// folder being typed, or under --runs-dir (default runs) when nothing is.
func completeRunDirs(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return runDirCandidates(cmd, toComplete), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// runDirCandidates lists run directories (and folders that may hold some)
// that start with toComplete.
func runDirCandidates(cmd *cobra.Command, toComplete string) []string {
	base, prefix := filepath.Dir(toComplete), filepath.Base(toComplete)
	if toComplete == "" || strings.HasSuffix(toComplete, "/") {
		base, prefix = strings.TrimSuffix(toComplete, "/"), ""
		if base == "" {
			base = "."
		}
	}
	var out []string
	add := func(dir, shown string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) || strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(prefix, ".") {
				continue
			}
			path := filepath.Join(shown, e.Name())
			if shown == "" {
				path = e.Name()
			}
			// Folders without a journal may hold runs (runs/, an
			// archive): they are offered too, for the next component.
			out = append(out, path+"/")
		}
	}
	shown := base
	if toComplete == "" || base == "." && !strings.HasPrefix(toComplete, "./") {
		shown = ""
	}
	add(base, shown)
	if toComplete == "" {
		// Nothing typed: offer the runs folder's runs first.
		runsDir := "runs"
		if f := cmd.Flags().Lookup("runs-dir"); f != nil && f.Value.String() != "" {
			runsDir = f.Value.String()
		}
		var runs []string
		if entries, err := os.ReadDir(runsDir); err == nil {
			for _, e := range entries {
				if _, err := os.Stat(filepath.Join(runsDir, e.Name(), journal.FileName)); e.IsDir() && err == nil {
					runs = append(runs, filepath.Join(runsDir, e.Name())+"/")
				}
			}
		}
		sort.Sort(sort.Reverse(sort.StringSlice(runs))) // newest first
		out = append(runs, out...)
	}
	return out
}

// completeStepIDs completes --from and --only of resume with the steps the
// run (the command's first argument) planned, from its run.start.
func completeStepIDs(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	rs, _, err := reports.ReadRunStart(args[0])
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	// --only takes a comma-separated list: complete its last item.
	done, last := "", toComplete
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []string
	for _, p := range rs.Steps {
		if strings.HasPrefix(p.ID, last) {
			out = append(out, done+p.ID)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeRunbookNames completes history's --runbook with the runbooks of
// the runs in --runs-dir.
func completeRunbookNames(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	runsDir := "runs"
	if f := cmd.Flags().Lookup("runs-dir"); f != nil {
		runsDir = f.Value.String()
	}
	seen := map[string]bool{}
	var out []string
	entries, _ := os.ReadDir(runsDir)
	for _, e := range entries {
		if rs, _, err := reports.ReadRunStart(filepath.Join(runsDir, e.Name())); err == nil && !seen[rs.Runbook] && strings.HasPrefix(rs.Runbook, toComplete) {
			seen[rs.Runbook] = true
			out = append(out, rs.Runbook)
		}
	}
	sort.Strings(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeDirs completes a folder.
func completeDirs(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// completeFixed completes a flag with a fixed set of values.
func completeFixed(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, v := range values {
			if strings.HasPrefix(v, toComplete) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
