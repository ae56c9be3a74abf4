package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestMain stops the cluster and checks that Stop leaves nothing behind:
// the server process has exited and its directory is gone.
func TestMain(m *testing.M) {
	code := m.Run()
	mu.Lock()
	cl := c
	mu.Unlock()
	Stop()
	if cl != nil && code == 0 {
		if _, err := os.Stat(cl.dir); !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "after Stop the cluster directory %s is still there (%v)\n", cl.dir, err)
			code = 1
		}
		select {
		case <-cl.exit:
		default:
			fmt.Fprintln(os.Stderr, "after Stop the server is still running")
			code = 1
		}
	}
	os.Exit(code)
}

// TestFreshDatabases: each URL is a new, empty UTF8 database of its own,
// dropped when its test ends.
func TestFreshDatabases(t *testing.T) {
	ctx := context.Background()
	var urls, names []string
	for _, name := range []string{"one", "two"} {
		t.Run(name, func(t *testing.T) {
			u := URL(t)
			conn := connect(t, u)
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'marker'").Scan(&n); err != nil || n != 0 {
				t.Fatalf("a new database already has a table of another test: %d, %v", n, err)
			}
			if _, err := conn.Exec(ctx, "CREATE TABLE marker (x int)"); err != nil {
				t.Fatal(err)
			}
			var enc string
			if err := conn.QueryRow(ctx, "SHOW server_encoding").Scan(&enc); err != nil || enc != "UTF8" {
				t.Errorf("server_encoding = %q, %v; want UTF8", enc, err)
			}
			var db string
			if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
				t.Fatal(err)
			}
			urls, names = append(urls, u), append(names, db)
		})
	}
	if len(names) != 2 {
		t.Fatal("the subtests failed")
	}
	if names[0] == names[1] {
		t.Fatalf("both tests got database %s", names[0])
	}
	// Both databases were dropped when their tests ended.
	for _, u := range urls {
		conn, err := pgx.Connect(ctx, u)
		var pe *pgconn.PgError
		if err == nil {
			conn.Close(ctx)
			t.Errorf("%s still exists after its test ended", u)
		} else if !errors.As(err, &pe) || pe.Code != "3D000" {
			t.Errorf("connecting to a dropped database: %v, want invalid_catalog_name (3D000)", err)
		}
	}
}

// TestNotRoot: the server never runs as root, which PostgreSQL refuses.
func TestNotRoot(t *testing.T) {
	if os.Getenv("DATABASE_URL") != "" {
		t.Skip("the server is DATABASE_URL's")
	}
	conn := connect(t, URL(t))
	var super bool
	if err := conn.QueryRow(context.Background(), "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil || !super {
		t.Errorf("the test user is not a superuser: %v, %v", super, err)
	}
	// The backend serving this connection is a child of the server and
	// runs as the same user.
	var pid int
	if err := conn.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		t.Fatal(err)
	}
	uid := fi.Sys().(*syscall.Stat_t).Uid
	if uid == 0 {
		t.Errorf("the server runs as root")
	}
	t.Logf("cluster in %s, port %d, server uid %d", c.dir, c.port, uid)
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"TestX":                      "testx",
		"TestConformance/Views/Drop": "testconformance_views_drop",
		"Test 'quoted'; DROP":        "test_quoted_drop",
		"":                           "",
		"Ünï/🛒":                      "n",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	long := sanitize("TestAVeryLongNameThatGoesOnAndOnAndOnForeverAndEver/sub/sub")
	if len(long) > 36 {
		t.Errorf("sanitize of a long name gave %d bytes", len(long))
	}
}

func connect(t *testing.T, u string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
