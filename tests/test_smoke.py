from tests.factories import make_user


def test_login_then_dashboard(client, auth, app):
    user = make_user()
    response = auth.login(user)
    assert response.status_code == 302
    assert client.get("/").status_code == 200
