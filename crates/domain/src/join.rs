//! Awaiting two futures at once without an executor dependency.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

/// Polls `a` and `b` concurrently and returns both outputs.
pub async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let mut out_a = None;
    let mut out_b = None;
    std::future::poll_fn(move |cx| {
        if out_a.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            out_a = Some(v);
        }
        if out_b.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            out_b = Some(v);
        }
        match (out_a.take(), out_b.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                out_a = x;
                out_b = y;
                Poll::Pending
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::join2;
    use std::task::{Context, Poll, Waker};

    #[test]
    fn both_outputs_come_back_whatever_finishes_first() {
        let mut yielded = false;
        let slow = std::future::poll_fn(move |cx| {
            if yielded {
                Poll::Ready("slow")
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        });
        let fast = async { 7 };
        let mut fut = std::pin::pin!(join2(slow, fast));
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(("slow", 7)));
    }
}
