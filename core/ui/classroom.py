"""The class on a student's pages (issue 35): the sidebar's 👥 Class box, publishing from the live
loop, and a run that continues after its worker died. The lecturer's page is core/ui/lecturer.py.

Three hooks, one line each (page.py 1, loop.py 2, marked "issue 35 hook"), are all the rest of the UI knows of it:
  * ``sidebar_box(lesson)`` in ``page_setup`` (join with a code and a nickname, see that you share,
    leave; the lecturer's notices, one click to follow);
  * ``after_frame(page, runner, snap)`` in the live loop's frame, while the trainer is stopped for the
    snapshot: every SUMMARY_SECONDS a summary, every CHECKPOINT_SECONDS the checkpoint, handed to
    the process's publisher (a dict insert; the writing is its thread's);
  * ``resumed(page, from_checkpoint)`` where the live loop builds a session's first run: a joined
    session whose lesson has a saved checkpoint continues from it (rebuilt by the lesson's own
    ``from_checkpoint``, as the take-home box's upload is: forecasting's is not its trainer class's).

Who is in which class travels in the page's address (``?class=K7Q2&run=<token>``), so a reconnect
to another worker, or a reload, finds the run again; the token is 128 random bits. An address can
be copied, so the token is not enough: the session that joined (or took the run up) holds it in the
store (core.classroom.access), and an address opened elsewhere while that page is open is refused;
a reload or a reconnect after a worker died waits until the old session's hold is gone (seconds).
The links the app makes to share (the take-home box's lesson link) leave the token out. Nothing is
published before the student joins.
"""
from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import registry
from core.classroom import access, codes, view
from core.classroom.publish import (CHECKPOINT_SECONDS, SUMMARY_SECONDS, CheckpointError, checkpoint_of,
                                    publisher, resume_state, summarize)
from core.classroom.store import StoreError, shared

if TYPE_CHECKING:
    from core.live import LiveRunner
    from core.ui.page import Page

T = TypeVar("T")
CODE, TOKEN, NICK = "class_code", "class_token", "class_nick"
NOTICE_SECONDS = 5.0      # a page that is not training looks for the lecturer's notices this often
WAIT_SECONDS = access.LEASE_SECONDS + 2 * access.RENEW_SECONDS   # a dead worker's hold has run out by then
RETRY_SECONDS = 2.0       # a page waiting for its run to be let go asks this often
HELD_WAIT = ("This address names a class run that is open in another window right now, so this page does "
             "not take it over. If it is yours (a reload, or your connection moved to another server), it "
             "continues here in a few seconds, once that window is gone.")
HELD_REFUSED = ("That class run is open in another window, so this page does not take it over (a copied "
                "address does not hand over a run). Join the class below with your own nickname.")
UNAVAILABLE = ("The class view is unavailable right now (the class store cannot be reached). Your run "
               "goes on here and is shared again when the store is back.")


def joined() -> tuple[str, str, str] | None:
    """(class code, run token, nickname) of this session, or None."""
    ss = st.session_state
    return (ss[CODE], ss[TOKEN], ss.get(NICK, "")) if ss.get(CODE) and ss.get(TOKEN) else None


def _session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "-"


def _holder() -> str:
    """This session's name in the store's run leases (random: a session id is not meant to travel)."""
    return st.session_state.setdefault("class_holder", secrets.token_urlsafe(12))


def _hold(token: str) -> None:
    """Keep the run held by this session while it is connected (the publisher's thread renews)."""
    alive = None                            # no runtime (AppTest): held while the page keeps touching it
    if Runtime.exists():
        runtime, sid = Runtime.instance(), _session_id()
        alive = lambda: runtime.is_active_session(sid)      # noqa: E731  a closed tab lets go at once
    publisher().hold(token, _holder(), alive)


def _joined_as(code: str, token: str, nick: str) -> None:
    ss = st.session_state
    ss[CODE], ss[TOKEN], ss[NICK] = code, token, nick
    ss.pop("class_wait", None)
    _hold(token)


# ------------------------------------------------------------------------------ joining

def _attempt(ask: Callable[[], Any], refused: str) -> Any | None:
    """One rate-limited question to the store on the way into a class: its answer, or None with
    the reason left for the box (too many tries, the store away, ``refused`` for a wrong code).
    The tries are counted in the store, so every worker behind the proxy shares one limit."""
    ss = st.session_state
    try:
        why = access.join_allowed(shared(), _session_id())
        answer = None if why else ask()
        if answer is None and not why:
            access.join_failed(shared(), _session_id())
    except StoreError:
        ss["class_error"] = UNAVAILABLE
        return None
    if why or answer is None:
        ss["class_error"] = why or refused
    return answer


def _rejoin_from_url() -> None:
    """A new session opened with ``?class=…&run=…`` (a reconnect, a reload, a followed notice, or
    someone else's copied address): it takes the run up unless another open page holds it."""
    ss = st.session_state
    if joined() or ss.get("class_rejoin_tried"):
        return
    code, token = codes.normal_code(st.query_params.get("class", "")), st.query_params.get("run", "")
    if not code or not codes.valid_token(token):
        return
    ss["class_rejoin_tried"] = True
    try:
        nick = _attempt(lambda: access.claim(shared(), code, token, _holder()),
                        "That class link has expired or you left the class: join again below.")
    except access.Held:                     # a live page has it: wait, in case that page is this one's past
        ss["class_wait"] = (code, token, time.monotonic() + WAIT_SECONDS)
        return
    if nick is None:
        if "class_error" in ss and "expired" in ss["class_error"]:
            del st.query_params["run"]
        return
    _joined_as(code, token, nick)


def _wait_fragment(lesson: str) -> None:
    """While the address's run is held by another page: ask again every RETRY_SECONDS; take it up
    once it is let go (a reload's old tab, a dead worker), or give up after WAIT_SECONDS."""
    @st.fragment(run_every=RETRY_SECONDS)
    def waiting() -> None:
        ss = st.session_state
        if ss.get("class_wait") is None:
            return
        code, token, until = ss["class_wait"]
        try:
            nick = access.claim(shared(), code, token, _holder())
        except access.Held:
            if time.monotonic() < until:
                st.info(HELD_WAIT, icon="⏳")
                return
            nick, ss["class_error"] = None, HELD_REFUSED
        except StoreError:
            st.warning(UNAVAILABLE, icon="⚠️")
            return
        ss.pop("class_wait", None)
        if nick is None:
            ss.setdefault("class_error", "That class link has expired or you left the class: join again below.")
            if "run" in st.query_params:
                del st.query_params["run"]
        else:
            _joined_as(code, token, nick)
            ss[f"{lesson}_reset"] = True    # core.ui.loop's Page.key("reset"): rebuilt, so resumed
        st.rerun()

    waiting()


def _on_join() -> None:
    ss = st.session_state
    try:
        nick = codes.clean_nickname(ss.get("class_join_nick", ""))
    except ValueError as e:
        ss["class_error"] = str(e)
        return
    code = codes.normal_code(ss.get("class_join_code", ""))
    if code is None:
        try:
            access.join_allowed(shared(), _session_id())          # a malformed code counts as a try too
        except StoreError:
            pass
        ss["class_error"] = f"A class code has {codes.CODE_LENGTH} letters and digits, as your lecturer shows it."
        return
    token = _attempt(lambda: shared().join(code, nick, holder=_holder(), lease=access.LEASE_SECONDS),
                     "There is no class with that code now: check it with your lecturer.")
    if token is not None:
        _joined_as(code, token, nick)
        st.query_params["class"], st.query_params["run"] = code, token


def _on_leave() -> None:
    ss = st.session_state
    token = ss.get(TOKEN)
    for k in (CODE, TOKEN, NICK):
        ss.pop(k, None)
    if token:
        publisher().unhold(token)
    for k in ("class", "run"):
        if k in st.query_params:
            del st.query_params[k]
    try:
        if token:
            shared().leave(token)       # everything published is deleted with the membership
    except StoreError:
        ss["class_error"] = ("You left, but the store could not be reached to delete what you shared; "
                             f"it is deleted with the class (after {12} hours).")


def _keep_in_url() -> None:
    """Page navigation clears the address's parameters: put the class back (a reconnect reads it)."""
    j = joined()
    if j is not None:
        if st.query_params.get("class") != j[0]:
            st.query_params["class"] = j[0]
        if st.query_params.get("run") != j[1]:
            st.query_params["run"] = j[1]


def _still_held() -> None:
    """A joined page whose run another page took up (its hold ran out while the store was away)
    stops acting as that run; else its hold is touched (the page is alive)."""
    ss, j = st.session_state, joined()
    if j is None:
        return
    if not publisher().lost(j[1], _holder()):
        _hold(j[1])
        return
    for k in (CODE, TOKEN, NICK):
        ss.pop(k, None)
    if "run" in st.query_params:
        del st.query_params["run"]
    ss["class_error"] = ("Your class run was taken up in another window while the class store was away; "
                         "this page no longer shares it. Join again to share from here.")


def sidebar_box(lesson: str) -> None:
    """The sidebar's 👥 Class box (called inside ``st.sidebar`` by ``page_setup``)."""
    if lesson == "class":                  # the lecturer's own page
        return
    ss = st.session_state
    go = ss.pop("class_go", None)
    if go is not None:                      # a followed notice: the student clicked Open
        st.switch_page(go[0], query_params=go[1])
    _rejoin_from_url()
    _still_held()
    _keep_in_url()
    j = joined()
    with st.expander("👥 Class", expanded=j is not None or "class" in st.query_params):
        err = ss.pop("class_error", None)
        if err:
            st.error(err)
        if j is None:
            if ss.get("class_wait") is not None:        # only then: a fragment that reruns every 2 s
                _wait_fragment(lesson)
            st.caption("Join your lecturer's class to share your runs with them: a nickname, settings, "
                       "step and curves, nothing else. Nothing is shared until you join.")
            st.text_input("Class code", value=st.query_params.get("class", ""), key="class_join_code",
                          max_chars=12)       # a link ?class=K7Q2 fills it in
            st.text_input("Nickname", key="class_join_nick", max_chars=codes.NICK_MAX,
                          help="Any name but your real one; the lecturer sees it beside your run.")
            st.button("Join", key="class_join_btn", on_click=_on_join)
            return
        st.markdown(f"🟢 **Sharing** your runs with class **{j[0]}** as **{codes.escape_markdown(j[2])}**.")
        if not publisher().status()[0]:
            st.warning(UNAVAILABLE, icon="⚠️")
        st.button("Leave the class", key="class_leave_btn", on_click=_on_leave,
                  help="Stop sharing and delete what you shared.")
    _notices_fragment(lesson)


# ------------------------------------------------------------------------------ the lecturer's notices

def _news(info: dict[str, Any] | None) -> tuple:
    info = info or {}
    return ((info.get("message") or {}).get("id"), (info.get("sweep") or {}).get("id"))


def _on_follow(page: str, params: dict[str, str], seen: tuple[str, Any]) -> None:
    st.session_state["class_go"] = (page, params)
    st.session_state[seen[0]] = seen[1]


def _on_dismiss(key: str, value: Any) -> None:
    st.session_state[key] = value


def _notices_fragment(lesson: str) -> None:
    training = st.session_state.get(f"{lesson}_run") == "▶ Train"     # core.ui.page.TRAIN
    # While training, the live frame looks (``after_frame``); else this box, every few seconds.

    @st.fragment(run_every=None if training else NOTICE_SECONDS)
    def notices() -> None:
        if st.session_state.get("class_go") is not None:
            st.rerun()                      # a click inside the fragment: the full run switches page
        j = joined()
        if j is None:
            return
        if not training:
            _publish_paused(lesson, j)
        info = publisher().class_info(j[0])
        st.session_state["class_news_shown"] = _news(info)
        if info:
            _message(info.get("message"))
            _sweep(info.get("sweep"), j[1])

    notices()


def _message(msg: dict[str, Any] | None) -> None:
    ss = st.session_state
    if not msg or msg.get("id", 0) <= ss.get("class_msg_done", 0):
        return
    with st.container(border=True):
        st.markdown("📣 **From your lecturer:** " + codes.escape_markdown(msg.get("text", "")))
        a, b = st.columns(2)
        a.button("Open", key="class_msg_open", type="primary", on_click=_on_follow,
                 args=(msg["page"], dict(msg.get("params") or {}), ("class_msg_done", msg["id"])))
        b.button("Dismiss", key="class_msg_dismiss", on_click=_on_dismiss, args=("class_msg_done", msg["id"]))


def _sweep(sweep: dict[str, Any] | None, token: str) -> None:
    ss = st.session_state
    if not sweep or sweep.get("id") == ss.get("class_sweep_done") or sweep["lesson"] not in registry.BY_KEY:
        return
    lesson, setting = sweep["lesson"], sweep["setting"]
    d = view.declarations(lesson)[setting]
    with st.container(border=True):
        st.markdown(f"🧪 **Class sweep** in *{registry.lesson(lesson).title}*: everyone trains with the same "
                    f"settings except **{d.label}**. Your value (dealt; you may pick another):")
        values = list(sweep["values"])
        mine = st.selectbox(d.label, values, index=values.index(view.dealt_value(sweep, token)),
                            format_func=lambda v: view.url_value(lesson, setting, v), key="class_sweep_value",
                            label_visibility="collapsed")
        a, b = st.columns(2)
        a.button("Open with these settings", key="class_sweep_open", type="primary", on_click=_on_follow,
                 args=(*view.sweep_link(sweep, mine), ("class_sweep_done", sweep.get("id"))))
        b.button("Dismiss", key="class_sweep_dismiss", on_click=_on_dismiss, args=("class_sweep_done", sweep.get("id")))


# ------------------------------------------------------------------------------ the live loop's hooks

def after_frame(page: "Page", runner: "LiveRunner", snap: T) -> T:
    """Publish the joined run (never blocks: the publisher's thread writes); returns ``snap``, the
    frame's snapshot. Called while the trainer is stopped for that snapshot, so the summary and
    the checkpoint are consistent."""
    j = joined()
    if j is None:
        return snap
    ss = st.session_state
    _publish(page.lesson, runner, j)
    if page.train_chosen() and _news(publisher().class_info(j[0])) != ss.get("class_news_shown", (None, None)):
        ss["class_news_shown"] = _news(publisher().class_info(j[0]))
        st.rerun()                          # a full run draws the new notice in the sidebar
    return snap


def _publish(lesson: str, runner: "LiveRunner", j: tuple[str, str, str]) -> None:
    """Every SUMMARY_SECONDS the summary (when the step moved, or every 30 s), every
    CHECKPOINT_SECONDS the checkpoint (when the step moved). The trainer must be stopped."""
    ss = st.session_state
    if ss.get(f"{lesson}_reset"):           # this run is about to be replaced (by the saved one, after a
        return                              # wait): its summary or checkpoint must not overwrite the save
    key = f"{lesson}_class_pub"
    now = time.monotonic()
    t_sum, s_sum, t_ck, s_ck = ss.get(key, (-1e9, -1, -1e9, -1))
    trainer = runner.trainer
    step = int(trainer.step_count)
    if now - t_sum < SUMMARY_SECONDS or (step == s_sum and now - t_sum < 30):
        return
    try:
        summary = summarize(trainer, j[1], j[0])
        ckpt = None
        if now - t_ck >= CHECKPOINT_SECONDS and step != s_ck and step > 0 and not runner.error:
            ckpt = checkpoint_of(trainer)
            t_ck, s_ck = now, step
        publisher().offer(summary, ckpt)
        ss[key] = (now, step, t_ck, s_ck)
    except Exception:                       # a summary must never take the frame down
        ss[key] = (now, s_sum, t_ck, s_ck)


def _publish_paused(lesson: str, j: tuple[str, str, str]) -> None:
    """A paused run has no frames: its last steps (a Step click) are published from the notices
    box, which runs every NOTICE_SECONDS while the page is not training."""
    runner = st.session_state.get(f"{lesson}_runner")
    if runner is not None and getattr(runner, "held", False):
        runner.call(lambda _t: _publish(lesson, runner, j))


def resumed(page: "Page", from_checkpoint: Callable[[dict[str, Any], Any], T] | None) -> T | None:
    """A joined session's first run of a lesson: a trainer continuing from the run's last saved
    checkpoint (read back as an upload is: ``read_checkpoint_bytes``, then the lesson's
    ``from_checkpoint(state, device)``, the same the take-home box uses), or None (not joined,
    nothing saved, already tried, or a lesson that cannot rebuild a run from a checkpoint)."""
    ss = st.session_state
    j = joined()
    if j is None or from_checkpoint is None or ss.get(page.key("class_resumed")):
        return None
    ss[page.key("class_resumed")] = True
    if not publisher().status()[0]:
        return None
    try:
        state = resume_state(shared(), j[1], page.lesson)
        if state is None:
            return None
        saved = time.time() - state.pop("_saved_at")
        trainer = from_checkpoint(state, page.device)
    except (StoreError, CheckpointError, ValueError, KeyError, TypeError) as e:
        ss[page.key("notice")] = ("warning", f"Your saved run could not be restored ({e}); it starts again at step 0.")
        return None
    ss[page.key("notice")] = ("success", f"Welcome back: your run continues from step {trainer.step_count:,}, "
                                         f"saved {max(0, saved):.0f} s ago (the class store keeps it).")
    return trainer
