// Package testsupport holds what the repository's test binaries and test
// helpers share beyond one package: free loopback ports for the servers
// they start (moto_server, PostgreSQL, RIE) and the TestMain that stops
// such servers once the tests are done.
package testsupport

import (
	"fmt"
	"net"
)

// FreePort returns a loopback (127.0.0.1) TCP port that was free a moment
// ago, or the error of listening for one. The port is only free until
// another process takes it: a caller whose server then fails to bind
// should try again with a new port.
func FreePort() (int, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// FreePorts returns n distinct loopback (127.0.0.1) TCP ports that were
// free a moment ago (none for n == 0), or an error when n is negative or
// listening fails. The listeners are all open at once, so the kernel
// cannot hand out one port twice; they are closed before FreePorts
// returns, so, as with FreePort, another process may take a port before
// the caller binds it.
func FreePorts(n int) ([]int, error) {
	if n < 0 {
		return nil, fmt.Errorf("testsupport.FreePorts(%d): want n >= 0", n)
	}
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
