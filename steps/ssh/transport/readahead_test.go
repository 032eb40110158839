package transport

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"testing"
)

// countingConn is a connection that counts the reads drbook makes of it
// (each one a read system call on a real socket) and serves a stream that
// the kernel always has ready.
type countingConn struct {
	net.Conn
	src   io.Reader
	reads int
}

func (c *countingConn) Read(p []byte) (int, error) {
	c.reads++
	return c.src.Read(p)
}

// TestReadAheadCoalescesReads reads 1 MiB of 32 KiB packets the way
// x/crypto/ssh does (a 4 KiB bufio.Reader, a 4-byte length, then the
// rest): through readAhead the socket is read once per 64 KiB at most,
// where without it each packet takes two reads.
func TestReadAheadCoalescesReads(t *testing.T) {
	const packet, total = 32 << 10, 1 << 20
	data := make([]byte, total)
	rand.Read(data)
	for _, c := range []struct {
		name     string
		wrap     func(net.Conn) net.Conn
		maxReads int
	}{
		{"read ahead", readAhead, total/(64<<10) + 1},
		{"bare (the peer)", func(c net.Conn) net.Conn { return c }, 2 * total / packet},
	} {
		conn := &countingConn{src: bytes.NewReader(data)}
		r := bufio.NewReader(c.wrap(conn))
		got := make([]byte, 0, total)
		buf := make([]byte, packet)
		for len(got) < total {
			if _, err := io.ReadFull(r, buf[:4]); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(r, buf[4:]); err != nil {
				t.Fatal(err)
			}
			got = append(got, buf...)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: the stream came out different", c.name)
		}
		if conn.reads > c.maxReads {
			t.Fatalf("%s: %d reads of the socket for %d bytes, want at most %d", c.name, conn.reads, total, c.maxReads)
		}
		t.Logf("%s: %d reads of the socket for 1 MiB", c.name, conn.reads)
	}
}
