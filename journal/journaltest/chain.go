// Package journaltest builds journals for tests and fuzz targets: events
// written as JSON, in any shape a writer could never produce (a payload
// missing, no time), chained as a real journal is so that readers get
// past the hash-chain check and meet the events themselves.
package journaltest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
)

// Chain returns the lines as a journal: each line that is a JSON object
// gets its "seq" and "prev" set as journal.Verify expects; a line that is
// not is kept as it is (and breaks the chain there, as it would).
func Chain(lines ...[]byte) []byte {
	var out bytes.Buffer
	prev := ""
	for i, line := range lines {
		var obj map[string]json.RawMessage
		if json.Unmarshal(line, &obj) == nil && obj != nil {
			obj["seq"] = json.RawMessage(strconv.Itoa(i + 1))
			p, _ := json.Marshal(prev)
			obj["prev"] = p
			if b, err := json.Marshal(obj); err == nil {
				line = b
			}
		}
		line = bytes.ReplaceAll(line, []byte("\n"), nil)
		out.Write(line)
		out.WriteByte('\n')
		sum := sha256.Sum256(line)
		prev = hex.EncodeToString(sum[:])
	}
	return out.Bytes()
}

// Lines splits fuzz input into the lines Chain takes.
func Lines(data []byte) [][]byte {
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}
