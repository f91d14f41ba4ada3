// Package testnet gives tests addresses on 127.0.0.1 to start servers on.
package testnet

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
)

// Ports are picked below Linux's ephemeral range (32768-60999): the
// kernel hands ports from that range to outgoing connections and to
// listeners on port 0 of every process, so a port picked there and closed
// may be taken by someone else before the server that was told it binds.
const (
	minPort = 20000
	maxPort = 32000
)

var (
	mu     sync.Mutex
	handed = map[int]bool{} // ports this process handed out
)

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago and that this process has not handed out before, for a server a
// test starts in another process (which must be told its address before
// it runs).
func FreeAddr(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	for range 200 {
		port := minPort + rand.IntN(maxPort-minPort)
		if handed[port] {
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		handed[port] = true
		return addr
	}
	t.Fatal("testnet: no free port found")
	return ""
}
