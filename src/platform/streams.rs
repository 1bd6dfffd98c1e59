//! Push streams for the event sources: Server-Sent Events and WebSocket. Each hands
//! its messages to a callback and reports opening and closing; reconnecting (with
//! backoff) is the caller's, so that every source reconnects the same way.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::describe;

/// What a push stream reports.
pub enum StreamSignal<'a> {
    /// Connected.
    Open,
    /// One message's text.
    Message(&'a str),
    /// One binary message (WebSocket).
    Binary(&'a [u8]),
    /// The connection ended or could not be made, with the reason.
    Closed(String),
}

/// An open push stream; dropping it closes the connection and its callbacks.
pub struct PushStream {
    close: Box<dyn Fn()>,
    _callbacks: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Drop for PushStream {
    fn drop(&mut self) {
        (self.close)();
    }
}

impl PushStream {
    /// Opens an EventSource on `url`. The browser's own retry is switched off by closing
    /// on the first error, so the caller's backoff decides when to come back.
    pub fn server_sent_events(
        url: &str,
        on_signal: impl FnMut(StreamSignal<'_>) + 'static,
    ) -> Result<PushStream, String> {
        let source = web_sys::EventSource::new(url).map_err(|e| describe(&e))?;
        let handler = shared(on_signal);
        let on_open = opened(&handler);
        let on_message = {
            let handler = handler.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
                if let Some(text) = event
                    .dyn_ref::<web_sys::MessageEvent>()
                    .and_then(|m| m.data().as_string())
                {
                    handler.borrow_mut()(StreamSignal::Message(&text));
                }
            })
        };
        let on_error = {
            let source = source.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                let reason = if source.ready_state() == web_sys::EventSource::CONNECTING {
                    "the stream ended or dropped"
                } else {
                    "could not connect (network error, HTTP error, a content type other than \
                     text/event-stream, or blocked by CORS)"
                };
                source.close();
                handler.borrow_mut()(StreamSignal::Closed(reason.to_owned()));
            })
        };
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let closing = source.clone();
        Ok(PushStream {
            close: Box::new(move || {
                closing.set_onopen(None);
                closing.set_onmessage(None);
                closing.set_onerror(None);
                closing.close();
            }),
            _callbacks: vec![on_open, on_message, on_error],
        })
    }

    /// Opens a WebSocket on `url` (`ws://` or `wss://`).
    pub fn websocket(
        url: &str,
        on_signal: impl FnMut(StreamSignal<'_>) + 'static,
    ) -> Result<PushStream, String> {
        let socket = web_sys::WebSocket::new(url).map_err(|e| describe(&e))?;
        socket.set_binary_type(web_sys::BinaryType::Arraybuffer);
        let handler = shared(on_signal);
        let on_open = opened(&handler);
        let on_message = {
            let handler = handler.clone();
            let mut bytes = Vec::new();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
                let Some(message) = event.dyn_ref::<web_sys::MessageEvent>() else {
                    return;
                };
                let data = message.data();
                if let Some(text) = data.as_string() {
                    handler.borrow_mut()(StreamSignal::Message(&text));
                } else if let Ok(buffer) = data.dyn_into::<js_sys::ArrayBuffer>() {
                    let array = js_sys::Uint8Array::new(&buffer);
                    bytes.resize(array.length() as usize, 0);
                    array.copy_to(&mut bytes);
                    handler.borrow_mut()(StreamSignal::Binary(&bytes));
                }
            })
        };
        let on_close = {
            Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
                let reason = match event.dyn_ref::<web_sys::CloseEvent>() {
                    Some(close) if close.code() == 1006 => {
                        "could not connect or the connection dropped (code 1006: network \
                         error, refused, or rejected by the server)"
                            .to_owned()
                    }
                    Some(close) if close.reason().is_empty() => {
                        format!("closed by the server (code {})", close.code())
                    }
                    Some(close) => {
                        format!(
                            "closed by the server (code {}: {})",
                            close.code(),
                            close.reason()
                        )
                    }
                    None => "closed".to_owned(),
                };
                handler.borrow_mut()(StreamSignal::Closed(reason));
            })
        };
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let closing = socket.clone();
        Ok(PushStream {
            close: Box::new(move || {
                closing.set_onopen(None);
                closing.set_onmessage(None);
                closing.set_onclose(None);
                let _ = closing.close();
            }),
            _callbacks: vec![on_open, on_message, on_close],
        })
    }
}

/// The `open` callback: tells the handler the stream is connected.
fn opened(handler: &SharedHandler) -> Closure<dyn FnMut(web_sys::Event)> {
    let handler = handler.clone();
    Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        handler.borrow_mut()(StreamSignal::Open);
    })
}

type SharedHandler = std::rc::Rc<std::cell::RefCell<dyn FnMut(StreamSignal<'_>)>>;

fn shared(on_signal: impl FnMut(StreamSignal<'_>) + 'static) -> SharedHandler {
    std::rc::Rc::new(std::cell::RefCell::new(on_signal))
}
