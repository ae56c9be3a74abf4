// A main package that does not compile, for the build error test.
package main

func main() { undefinedFunction() }
