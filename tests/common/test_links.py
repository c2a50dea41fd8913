"""The one link rule for enterprise text quoted to other people (revive.common.links)."""

from __future__ import annotations

import pytest

from revive.common.links import has_link


@pytest.mark.parametrize(
    "text",
    [
        "请访问 http://revive-verify.example/login 重新验证账号",
        "HTTPS://X.EXAMPLE",
        "ftp://files.example",
        "www.revive-verify.example",
        "登录 revive-verify.com 领取",
        "ｈｔｔｐ：／／revive-verify．example",  # full-width, folded first
        "详见 ｗｗｗ．example．cn",
        "扫码进群 revive.vip",
    ],
)
def test_links_are_found(text):
    assert has_link(text)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "用于本公司复合材料产线，年产 500 吨。",
        "硅碳负极比容量 1.5 倍，循环 1000 次后保持 80%",
        "Node.js 与 Python 系统对接",
        "内蒙古某某科技 Co.Ltd",
    ],
)
def test_ordinary_text_passes(text):
    assert not has_link(text)
