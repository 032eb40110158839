package guest

import (
	"strconv"
	"strings"
)

// passwdEntry is one line of the guest's /etc/passwd or /etc/group.
type passwdEntry struct {
	name string
	id   int
	gid  int
	home string
}

// readIDs reads a passwd-format file of the guest (names and ids only).
func (g *Guest) readIDs(file string) []passwdEntry {
	data, err := g.fs.ReadFile(file)
	if err != nil {
		return nil
	}
	var out []passwdEntry
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 {
			continue
		}
		id, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		e := passwdEntry{name: f[0], id: id}
		if len(f) > 3 {
			e.gid, _ = strconv.Atoi(f[3])
		}
		if len(f) > 5 {
			e.home = f[5]
		}
		out = append(out, e)
	}
	return out
}

// userName is the name of uid in the guest, or the number.
func (g *Guest) userName(uid int) string { return g.idName("/etc/passwd", uid) }

// groupName is the name of gid in the guest, or the number.
func (g *Guest) groupName(gid int) string { return g.idName("/etc/group", gid) }

func (g *Guest) idName(file string, id int) string {
	if id == operatorID && g.cfg.Operator != "" {
		return g.cfg.Operator
	}
	for _, e := range g.readIDs(file) {
		if e.id == id {
			return e.name
		}
	}
	if id == 0 {
		return "root"
	}
	return strconv.Itoa(id)
}

// lookupID resolves a user or group name (or number) in the guest.
func (g *Guest) lookupID(file, name string) (passwdEntry, bool) {
	if n, err := strconv.Atoi(name); err == nil {
		return passwdEntry{name: name, id: n, gid: n}, true
	}
	for _, e := range g.readIDs(file) {
		if e.name == name {
			return e, true
		}
	}
	if name == "root" {
		return passwdEntry{name: "root"}, true
	}
	return passwdEntry{}, false
}
