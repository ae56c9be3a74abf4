// The command function of the test module: it prints its name, so each
// function's bootstrap (and so its asset) differs.
package main

import "os"

func main() { os.Stdout.WriteString("command\n") }
