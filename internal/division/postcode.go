package division

import (
	"strings"

	"unid/internal/problem"
)

// A Chinese postcode (邮政编码) has six digits; the first two name the
// provincial-level postal area the mail is routed through. provincePostcodes
// lists, for each province (the first two digits of its GB/T 2260 code),
// the two-digit prefixes of its postcodes, from China Post's national
// postcode directory (《全国邮政编码簿》; the ranges of the two-digit postal
// areas are also tabled in the Wikipedia article "Postal codes in China").
// A province's prefixes are those of the prefectures' and counties' own
// postcodes in the directory.
var provincePostcodes = map[string][]string{
	"11": {"10"},                   // 北京市
	"12": {"30"},                   // 天津市
	"13": {"05", "06", "07"},       // 河北省
	"14": {"03", "04"},             // 山西省
	"15": {"01", "02"},             // 内蒙古自治区 (see cityPostcodes)
	"21": {"11", "12"},             // 辽宁省
	"22": {"13"},                   // 吉林省
	"23": {"15", "16"},             // 黑龙江省
	"31": {"20"},                   // 上海市
	"32": {"21", "22"},             // 江苏省
	"33": {"31", "32"},             // 浙江省
	"34": {"23", "24"},             // 安徽省
	"35": {"35", "36"},             // 福建省
	"36": {"33", "34"},             // 江西省
	"37": {"25", "26", "27"},       // 山东省
	"41": {"45", "46", "47"},       // 河南省
	"42": {"43", "44"},             // 湖北省
	"43": {"41", "42"},             // 湖南省
	"44": {"51", "52"},             // 广东省
	"45": {"53", "54"},             // 广西壮族自治区
	"46": {"57"},                   // 海南省
	"50": {"40"},                   // 重庆市
	"51": {"61", "62", "63", "64"}, // 四川省
	"52": {"55", "56"},             // 贵州省
	"53": {"65", "66", "67"},       // 云南省
	"54": {"85", "86"},             // 西藏自治区
	"61": {"71", "72"},             // 陕西省
	"62": {"73", "74"},             // 甘肃省
	"63": {"81"},                   // 青海省
	"64": {"75"},                   // 宁夏回族自治区
	"65": {"83", "84"},             // 新疆维吾尔自治区
}

// cityPostcodes are the prefectures whose mail is routed through a
// neighbouring province's postal area, and so whose postcodes start with
// that area's digits as well as (for some of their counties) their own
// province's: 兴安盟 (137xxx, through Jilin) and 阿拉善盟 (阿拉善左旗
// 750xxx through Ningxia, 阿拉善右旗 737xxx and 额济纳旗 735xxx through
// Gansu).
var cityPostcodes = map[string][]string{
	"152200": {"13"},       // 兴安盟
	"152900": {"73", "75"}, // 阿拉善盟
}

// PostcodePrefixes returns the two-digit postcode prefixes of the place's
// province, and of its city where the city has its own.
func PostcodePrefixes(p Place) []string {
	out := provincePostcodes[p.Province.Code[:min(2, len(p.Province.Code))]]
	if extra := cityPostcodes[p.City.Code]; len(extra) > 0 {
		out = append(append([]string(nil), out...), extra...)
	}
	return out
}

// NormalizePostcode returns a postcode as six ASCII digits. It accepts
// surrounding spaces and full-width digits. Codes: postcode_required,
// postcode_format.
func NormalizePostcode(s string) (string, error) {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, s))
	switch {
	case s == "":
		return "", problem.Field(FieldPostcode, "postcode_required")
	case !sixDigits(s):
		return "", problem.Field(FieldPostcode, "postcode_format")
	}
	return s, nil
}

// CheckPostcode checks that postcode, in normal form, belongs to the
// place's province: its first two digits are one of PostcodePrefixes(p).
// Code: postcode_province.
func CheckPostcode(p Place, postcode string) error {
	if len(postcode) == 6 {
		for _, prefix := range PostcodePrefixes(p) {
			if postcode[:2] == prefix {
				return nil
			}
		}
	}
	return problem.Field(FieldPostcode, "postcode_province")
}
