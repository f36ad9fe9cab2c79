package activity_test

import (
	"slices"
	"testing"

	"unid/internal/activity"
)

func TestParseUserAgent(t *testing.T) {
	tests := []struct {
		name string
		ua   string
		want activity.Agent
	}{
		{"Chrome on Windows 10/11",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			activity.Agent{Browser: "chrome", BrowserVersion: "120", OS: "windows", Form: "desktop"}},
		{"Chrome on Windows 7",
			"Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
			activity.Agent{Browser: "chrome", BrowserVersion: "109", OS: "windows", OSVersion: "7", Form: "desktop"}},
		{"Edge",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
			activity.Agent{Browser: "edge", BrowserVersion: "120", OS: "windows", Form: "desktop"}},
		{"Firefox on Linux",
			"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
			activity.Agent{Browser: "firefox", BrowserVersion: "121", OS: "linux", Form: "desktop"}},
		{"Safari on a Mac",
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
			activity.Agent{Browser: "safari", BrowserVersion: "17", OS: "macos", Form: "desktop"}},
		{"Safari on an iPhone",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
			activity.Agent{Browser: "safari", BrowserVersion: "17", OS: "ios", OSVersion: "17.2", Form: "phone"}},
		{"Safari on an iPad",
			"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
			activity.Agent{Browser: "safari", BrowserVersion: "16", OS: "ios", OSVersion: "16.6", Form: "tablet"}},
		{"Chrome on an iPhone",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
			activity.Agent{Browser: "chrome", BrowserVersion: "120", OS: "ios", OSVersion: "17.1", Form: "phone"}},
		{"Chrome on an Android phone",
			"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
			activity.Agent{Browser: "chrome", BrowserVersion: "120", OS: "android", OSVersion: "14", Form: "phone"}},
		{"an Android tablet",
			"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			activity.Agent{Browser: "chrome", BrowserVersion: "120", OS: "android", OSVersion: "13", Form: "tablet"}},
		{"WeChat on an iPhone",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 16_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2a) NetType/WIFI Language/zh_CN",
			activity.Agent{Browser: "wechat", BrowserVersion: "8", OS: "ios", OSVersion: "16.3", Form: "phone"}},
		{"WeChat on Android",
			"Mozilla/5.0 (Linux; Android 12; V2118A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230303 MMWEBID/2585 MicroMessenger/8.0.34.2340(0x2800225D) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
			activity.Agent{Browser: "wechat", BrowserVersion: "8", OS: "android", OSVersion: "12", Form: "phone"}},
		{"WeCom, which says MicroMessenger too",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.16 MicroMessenger/7.0.1 Language/zh ColorScheme/Light",
			activity.Agent{Browser: "wecom", BrowserVersion: "4", OS: "ios", OSVersion: "17.0", Form: "phone"}},
		{"Alipay on Android",
			"Mozilla/5.0 (Linux; U; Android 13; zh-CN; PGT-AN10 Build/HUAWEIPGT-AN10) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.2.59 Mobile Safari/537.36 UCBS/3.22.2.59_230726183400 ChannelId(1) NebulaSDK/1.8.100112 Nebula AlipayDefined(nt:WIFI,ws:360|0|3.0) AliApp(AP/10.5.26.8000) AlipayClient/10.5.26.8000 Language/zh-Hans useStatusBar/true isConcaveScreen/true Region/CNAriver/1.0.0",
			activity.Agent{Browser: "alipay", BrowserVersion: "10", OS: "android", OSVersion: "13", Form: "phone"}},
		{"Alipay on an iPhone",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 15_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Ariver/1.1.0 AliApp(AP/10.3.10.6000) Nebula WK RVKType(0) AlipayDefined(nt:WIFI,ws:390|780|3.0) AlipayClient/10.3.10.6000 Language/zh-Hans Region/CN NebulaX/1.0.0",
			activity.Agent{Browser: "alipay", BrowserVersion: "10", OS: "ios", OSVersion: "15.6", Form: "phone"}},
		{"DingTalk",
			"Mozilla/5.0 (Linux; U; Android 11; zh-CN; M2011K2C Build/RKQ1.200928.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.1.233 Mobile Safari/537.36 AliApp(DingTalk/6.5.50) com.alibaba.android.rimet/28447469 Channel/700159 language/zh-CN abi/64 UT4Aplus/0.2.25 colorScheme/light",
			activity.Agent{Browser: "dingtalk", BrowserVersion: "6", OS: "android", OSVersion: "11", Form: "phone"}},
		{"the QQ app, whose pages say MQQBrowser too",
			"Mozilla/5.0 (Linux; Android 10; V1916A Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/77.0.3865.120 MQQBrowser/6.2 TBS/045913 Mobile Safari/537.36 V1_AND_SQ_8.3.9_1424_YYB_D QQ/8.3.9.4635 NetType/WIFI WebP/0.3.0 Pixel/1080",
			activity.Agent{Browser: "qq", BrowserVersion: "8", OS: "android", OSVersion: "10", Form: "phone"}},
		{"QQ Browser on Android",
			"Mozilla/5.0 (Linux; U; Android 12; zh-cn; PDVM00 Build/SKQ1.211019.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/98.0.4758.102 MQQBrowser/13.6 Mobile Safari/537.36 COVC/045730",
			activity.Agent{Browser: "qqbrowser", BrowserVersion: "13", OS: "android", OSVersion: "12", Form: "phone"}},
		{"QQ Browser on Windows",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4606.71 Safari/537.36 Core/1.94.225.400 QQBrowser/12.2.5544.400",
			activity.Agent{Browser: "qqbrowser", BrowserVersion: "12", OS: "windows", Form: "desktop"}},
		{"360 Secure Browser",
			"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.198 Safari/537.36 QIHU 360SE",
			activity.Agent{Browser: "360", OS: "windows", OSVersion: "7", Form: "desktop"}},
		{"360 Browser on Android",
			"Mozilla/5.0 (Linux; Android 10; HMA-AL00) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.80 Mobile Safari/537.36 QihooBrowser/4.0.10",
			activity.Agent{Browser: "360", BrowserVersion: "4", OS: "android", OSVersion: "10", Form: "phone"}},
		{"Sogou on Windows",
			"Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.198 Safari/537.36 SE 2.X MetaSr 1.0",
			activity.Agent{Browser: "sogou", OS: "windows", Form: "desktop"}},
		{"Sogou on Android",
			"Mozilla/5.0 (Linux; Android 10; ELE-AL00) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Mobile Safari/537.36 SogouMobileBrowser/5.28.16",
			activity.Agent{Browser: "sogou", BrowserVersion: "5", OS: "android", OSVersion: "10", Form: "phone"}},
		{"UC Browser",
			"Mozilla/5.0 (Linux; U; Android 11; zh-CN; V2046A Build/RP1A.200720.012) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/15.3.6.1206 Mobile Safari/537.36",
			activity.Agent{Browser: "uc", BrowserVersion: "15", OS: "android", OSVersion: "11", Form: "phone"}},
		{"the Baidu app",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 16_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 SP-engine/2.66.0 main%2F1.0 baiduboxapp/13.22.0.10 (Baidu; P2 16.1) NABar/1.0",
			activity.Agent{Browser: "baidu", BrowserVersion: "13", OS: "ios", OSVersion: "16.1", Form: "phone"}},
		{"Huawei Browser on HarmonyOS",
			"Mozilla/5.0 (Linux; Android 10; HarmonyOS; NOH-AN00; HMSCore 6.11.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 HuaweiBrowser/14.0.0.322 Mobile Safari/537.36",
			activity.Agent{Browser: "huawei", BrowserVersion: "14", OS: "harmonyos", Form: "phone"}},
		{"HarmonyOS NEXT",
			"Mozilla/5.0 (Phone; OpenHarmony 4.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile HuaweiBrowser/5.0.3.300",
			activity.Agent{Browser: "huawei", BrowserVersion: "5", OS: "harmonyos", Form: "phone"}},
		{"Internet Explorer 11",
			"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
			activity.Agent{Browser: "ie", BrowserVersion: "11", OS: "windows", OSVersion: "7", Form: "desktop"}},
		{"Internet Explorer 8 on XP",
			"Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)",
			activity.Agent{Browser: "ie", BrowserVersion: "8", OS: "windows", OSVersion: "XP", Form: "desktop"}},
		{"Firefox on Kylin",
			"Mozilla/5.0 (X11; Kylin; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0",
			activity.Agent{Browser: "firefox", BrowserVersion: "102", OS: "kylin", Form: "desktop"}},
		{"the UOS browser",
			"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/101.0.4951.54 Safari/537.36 UOS",
			activity.Agent{Browser: "chrome", BrowserVersion: "101", OS: "uos", Form: "desktop"}},
		{"Opera", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
			activity.Agent{Browser: "opera", BrowserVersion: "106", OS: "windows", Form: "desktop"}},
		{"a web view that only says WebKit",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
			activity.Agent{OS: "ios", OSVersion: "17.2", Form: "phone"}},
		{"curl", "curl/8.5.0", activity.Agent{}},
		{"Go's client", "Go-http-client/1.1", activity.Agent{}},
		{"empty", "", activity.Agent{}},
		{"junk", "Mozilla/5.0 (💥) Chrome/" + "99999999999999", activity.Agent{Browser: "chrome"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := activity.ParseUserAgent(tt.ua); got != tt.want {
				t.Errorf("ParseUserAgent\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	// Every code the parser can give is one the pages can name.
	for _, tt := range tests {
		a := activity.ParseUserAgent(tt.ua)
		if a.Browser != "" && !slices.Contains(activity.Browsers, a.Browser) {
			t.Errorf("%s: browser %q is not in Browsers", tt.name, a.Browser)
		}
		if a.OS != "" && !slices.Contains(activity.OSes, a.OS) {
			t.Errorf("%s: OS %q is not in OSes", tt.name, a.OS)
		}
	}
}

func TestPlaceOf(t *testing.T) {
	tests := []struct {
		ip   string
		want activity.Place
	}{
		{"127.0.0.1", activity.Place{Kind: activity.PlaceLocal}},
		{"::1", activity.Place{Kind: activity.PlaceLocal}},
		{"10.1.2.3", activity.Place{Kind: activity.PlacePrivate}},
		{"172.16.0.9", activity.Place{Kind: activity.PlacePrivate}},
		{"192.168.1.20", activity.Place{Kind: activity.PlacePrivate}},
		{"100.64.3.4", activity.Place{Kind: activity.PlacePrivate}},
		{"169.254.1.1", activity.Place{Kind: activity.PlacePrivate}},
		{"fd12:3456:789a::1", activity.Place{Kind: activity.PlacePrivate}},
		{"fe80::1%eth0", activity.Place{Kind: activity.PlacePrivate}},
		{"203.0.113.77", activity.Place{Kind: activity.PlacePublic, Network: "203.0.113.*"}},
		{"::ffff:198.51.100.8", activity.Place{Kind: activity.PlacePublic, Network: "198.51.100.*"}},
		{"2001:db8:85a3:1234::8a2e:370:7334", activity.Place{Kind: activity.PlacePublic, Network: "2001:db8:85a3:*"}},
		{"240e:1::1", activity.Place{Kind: activity.PlacePublic, Network: "240e:1:0:*"}},
		{"0.0.0.0", activity.Place{Kind: activity.PlaceUnknown}},
		{"", activity.Place{Kind: activity.PlaceUnknown}},
		{"not an address", activity.Place{Kind: activity.PlaceUnknown}},
	}
	for _, tt := range tests {
		if got := activity.PlaceOf(tt.ip); got != tt.want {
			t.Errorf("PlaceOf(%q) = %+v, want %+v", tt.ip, got, tt.want)
		}
	}
}

func BenchmarkParseUserAgent(b *testing.B) {
	ua := "Mozilla/5.0 (Linux; Android 12; V2118A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230303 MMWEBID/2585 MicroMessenger/8.0.34.2340(0x2800225D) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
	for b.Loop() {
		activity.ParseUserAgent(ua)
	}
}
