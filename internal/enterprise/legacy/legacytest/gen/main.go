// Command gen writes a legacy enterprise account file of N valid rows to
// stdout, for timing `unid import legacy-enterprises` (docs/performance.md):
//
//	go run ./internal/enterprise/legacy/legacytest/gen 100000 > /tmp/legacy-100k.csv
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"

	"unid/internal/enterprise/legacy/legacytest"
)

func main() {
	n := 100_000
	if len(os.Args) > 1 {
		var err error
		if n, err = strconv.Atoi(os.Args[1]); err != nil || n < 0 {
			fmt.Fprintln(os.Stderr, "usage: gen [ROWS]")
			os.Exit(2)
		}
	}
	w := bufio.NewWriter(os.Stdout)
	err := legacytest.Generate(w, n)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
