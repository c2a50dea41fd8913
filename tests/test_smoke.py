from tests.factories import make_user


def test_login_then_dashboard(client, auth, app):
    user = make_user()
    response = auth.login(user)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_the_console_script_offers_every_operations_command(tmp_path):
    # The commands the README documents must be reachable as `revive <command>`.
    import os
    import subprocess
    import sys

    env = {**os.environ, "REVIVE_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", "from revive.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    for command in (
        "seed-demo",
        "import-patents",
        "import-demands",
        "requeue-jobs",
        "backup",
        "notify-overdue",
        "eval",
        "bench",
    ):
        assert f"  {command} " in out, command


def test_a_path_id_beyond_the_integer_range_is_404_not_an_error(client, auth):
    from revive.accounts.models import Role
    from tests.factories import make_user

    auth.login(make_user(Role.PLATFORM_ADMIN))
    assert client.get("/patents/99999999999999999999").status_code == 404
    api = client.get("/api/v1/patents/99999999999999999999", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.get_json()["error"]


def test_the_site_icon_is_served_offline(client):
    """Every page links its icon from the app itself; /favicon.ico, which browsers ask for
    anyway, leads there instead of a 404 on every page."""
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="icon" type="image/svg+xml" href="/static/favicon.svg"' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response.location.endswith("/static/favicon.svg")
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


def test_api_messages_say_read_again_where_pages_say_refresh():
    from revive.errors import api_wording

    assert api_wording("该专利的状态已被他人更新，请刷新页面后再操作") == (
        "该专利的状态已被他人更新，请重新读取后再操作"
    )
    assert api_wording("该候选匹配已不存在，请刷新队列") == "该候选匹配已不存在，请重新读取队列"
    assert api_wording("记录已被他人修改，请刷新后重试") == "记录已被他人修改，请重新读取后重试"
    assert api_wording("页面的版本号无效，请刷新页面后重试（您的修改未保存）") == (
        "版本号无效，请重新读取后重试（您的修改未保存）"
    )
