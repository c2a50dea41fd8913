"""The one link rule for enterprise text quoted to other people (revive.common.links)."""

from __future__ import annotations

import pytest

from revive.common.links import has_link

REFUSED = [
    "请访问 http://revive-verify.example/login 重新验证账号",
    "HTTPS://X.EXAMPLE",
    "ftp://files.example",
    "www.revive-verify.example",
    "登录 revive-verify.com 领取",
    "登录revive-verify.com领取",  # no spaces around it
    "ｈｔｔｐ：／／revive-verify．example",  # full-width, folded first
    "详见 ｗｗｗ．example．cn",
    "扫码进群 revive.vip",
    # a security re-test's bypasses
    "revive-verify。com",  # ideographic full stop
    "revive-verify｡com",  # its half-width form
    "REVIVE-VERIFY。COM",
    "revive-verify(.)com",
    "revive-verify[.]com",
    "revive-verify (dot) com",
    "revive-verify dot com",
    "203.0.113.7/login",
    "请访问203.0.113.7",
    "xn--80ak6aa92e.xn--p1ai",  # punycode
    "[平台认证](revive-verify.io)",  # markdown link
    "[点此](见/附件)",
    "revive-verify.io/login",
    "bit.ly/3xYz",
    "t.co/3xYz",
    "revive-verify.ltd",
    "revive-verify.top",
    "163.com",
    "revive-verify.c\u200bom",  # zero-width space
    "revive-verify.c\u2060om",  # word joiner
    "ASP.NET",  # a known false positive: a product name that is a host name
]

ACCEPTED = [
    # enumerations before an acronym in real postings (R0647, R0784, R1086, R1090): .app, .ph,
    # .ar and .ai are TLDs, but a one-character label is no host
    "三、APP设计1.APP介绍：在应用商店下载",
    "小时后开始结晶;9.pH>12",
    "增强现实方案a.AR开发平台",
    "b.云端解决方案c.AI边缘计算硬件",
    None,
    "",
    "用于本公司复合材料产线，年产 500 吨。",
    "硅碳负极比容量 1.5 倍，循环 1000 次后保持 80%",
    "Node.js 与 Python 系统对接",
    "内蒙古某某科技 Co.Ltd",
    "某某科技 Co., Ltd.",
    "增长 3.5",
    "固件 v1.2.3 升级",
    "版本 2.3.1 已发布",
    "壁厚 5.0mm，长度 3.5cm，剂量 0.5ml",
    "温度 25.5℃，压力 0.8MPa",
    "详见 报告.pdf 与 数据.xlsx",
    "脚本 main.py 与说明 README.md",
    "CuSO4.5H2O 结晶",
    "No.1 产品线",
    "例如 e.g. 与 i.e. 的写法",
    "GB/T 4754-2017",
    "年产 500 吨。下一步扩产",
    "[1](附件)",
]


@pytest.mark.parametrize("text", REFUSED)
def test_links_are_found(text):
    assert has_link(text)


@pytest.mark.parametrize("text", ACCEPTED)
def test_ordinary_text_passes(text):
    assert not has_link(text)
