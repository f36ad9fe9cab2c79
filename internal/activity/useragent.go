package activity

import (
	"strings"
)

// Agent is what a user agent string tells of the browser and the device,
// as codes: the pages name them in the reader's language (the messages
// activity.browser.<code>, activity.os.<code> and activity.form.<form>).
// An empty field was not recognised.
type Agent struct {
	Browser        string // one of Browsers
	BrowserVersion string // major version, e.g. "120"
	OS             string // one of OSes
	OSVersion      string // e.g. "17.2", "14", "7"; "" where the string does not tell it truly
	Form           string // FormPhone, FormTablet or FormDesktop
}

// Browsers are the browser codes ParseUserAgent gives, in-app browsers
// first.
var Browsers = []string{
	"wecom", "wechat", "alipay", "dingtalk", "qq", "qqbrowser", "360", "sogou", "uc", "baidu",
	"quark", "huawei", "xiaomi", "samsung", "edge", "opera", "firefox", "chrome", "ie", "safari",
}

// OSes are the operating system codes ParseUserAgent gives.
var OSes = []string{"windows", "macos", "ios", "android", "harmonyos", "chromeos", "kylin", "uos", "linux"}

// Forms of device.
const (
	FormPhone   = "phone"
	FormTablet  = "tablet"
	FormDesktop = "desktop"
)

// browserRule recognises a browser by any of its marks; the version, if
// any, follows the first mark found that ends in "/".
type browserRule struct {
	code  string
	marks []string
}

// browserRules are tried in order. The in-app browsers of WeChat, Alipay
// and the rest, and the Chinese browsers, all name Chrome or Safari too,
// so they come first; WeCom's says MicroMessenger as well, so it precedes
// WeChat; Edge and Opera say Chrome, and Chrome says Safari.
var browserRules = []browserRule{
	{"wecom", []string{"wxwork/"}},
	{"wechat", []string{"MicroMessenger/"}},
	{"alipay", []string{"AlipayClient/"}},
	{"dingtalk", []string{"DingTalk/"}},
	{"qq", []string{" QQ/"}}, // the QQ app; its pages say MQQBrowser too
	{"qqbrowser", []string{"MQQBrowser/", "QQBrowser/"}},
	{"360", []string{"QihooBrowser/", "QHBrowser/", "360SE", "360EE", "360Browser"}},
	{"sogou", []string{"SogouMobileBrowser/", "MetaSr", "SE 2.X"}},
	{"uc", []string{"UCBrowser/", "UBrowser/"}},
	{"baidu", []string{"baiduboxapp/", "BIDUBrowser", "baidubrowser/"}},
	{"quark", []string{"Quark/"}},
	{"huawei", []string{"HuaweiBrowser/", "HBPC/"}},
	{"xiaomi", []string{"MiuiBrowser/", "XiaoMi/MiuiBrowser/"}},
	{"samsung", []string{"SamsungBrowser/"}},
	{"edge", []string{"Edg/", "EdgA/", "EdgiOS/", "Edge/"}},
	{"opera", []string{"OPR/", "OPiOS/", "Opera"}},
	{"firefox", []string{"Firefox/", "FxiOS/"}},
	{"chrome", []string{"CriOS/", "Chrome/", "Chromium/"}},
	{"ie", []string{"MSIE ", "Trident/"}},
	{"safari", []string{"Safari/"}},
}

// ParseUserAgent reads the browser, the operating system and the form of
// device from a user agent string. It knows the common browsers and
// systems of the platform's users; anything else is left empty and shown
// as unknown, never as the raw string.
func ParseUserAgent(ua string) Agent {
	var a Agent
	for _, r := range browserRules {
		if mark, ok := firstMark(ua, r.marks); ok {
			a.Browser = r.code
			if strings.HasSuffix(mark, "/") {
				a.BrowserVersion = majorAfter(ua, mark)
			}
			break
		}
	}
	switch a.Browser {
	case "ie":
		// IE 11 no longer says MSIE; its Trident/7.0 is the engine's version.
		a.BrowserVersion = majorAfter(ua, "MSIE ")
		if a.BrowserVersion == "" && strings.Contains(ua, "Trident/7.") {
			a.BrowserVersion = "11"
		}
	case "safari":
		// Safari's own version is in Version/; Safari/ is WebKit's.
		a.BrowserVersion = majorAfter(ua, "Version/")
		if !strings.Contains(ua, "Version/") {
			a.Browser = "" // a web view, or something claiming WebKit
		}
	}
	a.OS, a.OSVersion, a.Form = parseOS(ua)
	return a
}

// parseOS reads the operating system, its version and the form of device.
func parseOS(ua string) (os, version, form string) {
	switch {
	case strings.Contains(ua, "HarmonyOS") || strings.Contains(ua, "OpenHarmony"):
		form = FormPhone
		if strings.Contains(ua, "Tablet") {
			form = FormTablet
		}
		return "harmonyos", dottedAfter(ua, "HarmonyOS ", 2), form
	case strings.Contains(ua, "iPad"):
		return "ios", strings.ReplaceAll(dottedAfter(ua, "CPU OS ", 2), "_", "."), FormTablet
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPod"):
		return "ios", strings.ReplaceAll(dottedAfter(ua, "iPhone OS ", 2), "_", "."), FormPhone
	case strings.Contains(ua, "Android"):
		form = FormTablet
		if strings.Contains(ua, "Mobile") {
			form = FormPhone
		}
		return "android", majorAfter(ua, "Android "), form
	case strings.Contains(ua, "Windows"):
		if strings.Contains(ua, "Windows Phone") {
			return "windows", "", FormPhone
		}
		return "windows", windowsVersion(ua), FormDesktop
	case strings.Contains(ua, "Macintosh") || strings.Contains(ua, "Mac OS X"):
		// The version in the string has been frozen at 10.15.7 for years.
		return "macos", "", FormDesktop
	case strings.Contains(ua, "CrOS"):
		return "chromeos", "", FormDesktop
	case strings.Contains(ua, "Kylin"):
		return "kylin", "", FormDesktop
	case strings.Contains(ua, "UOS") || strings.Contains(ua, "UnionTech"):
		return "uos", "", FormDesktop
	case strings.Contains(ua, "Linux") || strings.Contains(ua, "X11"):
		return "linux", "", FormDesktop
	}
	return "", "", ""
}

// windowsVersions name the Windows NT versions; 10.0 is Windows 10 and 11
// alike, so it names none.
var windowsVersions = map[string]string{
	"6.3": "8.1", "6.2": "8", "6.1": "7", "6.0": "Vista", "5.2": "XP", "5.1": "XP",
}

func windowsVersion(ua string) string {
	return windowsVersions[dottedAfter(ua, "Windows NT ", 2)]
}

// firstMark returns the first of marks that ua contains.
func firstMark(ua string, marks []string) (string, bool) {
	for _, m := range marks {
		if strings.Contains(ua, m) {
			return m, true
		}
	}
	return "", false
}

// majorAfter returns the digits right after the first mark in ua.
func majorAfter(ua, mark string) string {
	return dottedAfter(ua, mark, 1)
}

// dottedAfter returns up to parts dot- or underscore-separated numbers
// right after the first mark in ua: "17_2" or "8.1" for 2, "120" for 1.
func dottedAfter(ua, mark string, parts int) string {
	i := strings.Index(ua, mark)
	if i < 0 {
		return ""
	}
	rest := ua[i+len(mark):]
	end := 0
	for seen := 0; seen < parts; {
		start := end
		for end < len(rest) && isDigit(rest[end]) {
			end++
		}
		if end == start {
			break
		}
		seen++
		if seen == parts || end+1 >= len(rest) || (rest[end] != '.' && rest[end] != '_') || !isDigit(rest[end+1]) {
			break
		}
		end++
	}
	if end > 8 {
		return "" // too long for a version
	}
	return rest[:end]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
