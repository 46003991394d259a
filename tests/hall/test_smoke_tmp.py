def test_smoke(hall, peer):
    r = peer.ticket()
    assert r["ok"], r
    r = peer.command("1", "login", clerk="c01"); assert r["ok"], r
    r = peer.command("1", "next"); assert r["ok"], r
    print(peer.heard.payloads(peer.topics.window("1")))
    print(peer.heard.latest(peer.topics.recent_calls))
