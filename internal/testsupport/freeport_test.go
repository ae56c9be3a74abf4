package testsupport

import (
	"fmt"
	"net"
	"testing"
)

// TestFreePortsAreDistinctAndBindable: the ports differ from each other
// and each can be listened on once FreePorts has returned.
func TestFreePortsAreDistinctAndBindable(t *testing.T) {
	ports, err := FreePorts(4)
	if err != nil {
		t.Fatal(err)
	}
	if len(ports) != 4 {
		t.Fatalf("FreePorts(4) = %v: want 4 ports", ports)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("FreePorts(4) = %v: port %d twice", ports, p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("port %d of %v is not free: %v", p, ports, err)
		}
		l.Close()
	}
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		t.Fatalf("port %d is not free: %v", p, err)
	}
	l.Close()
}

func TestFreePortsOfNoneAndOfNegative(t *testing.T) {
	if ports, err := FreePorts(0); err != nil || len(ports) != 0 {
		t.Errorf("FreePorts(0) = %v, %v; want none, nil", ports, err)
	}
	if ports, err := FreePorts(-1); err == nil {
		t.Errorf("FreePorts(-1) = %v, nil; want an error", ports)
	}
}
