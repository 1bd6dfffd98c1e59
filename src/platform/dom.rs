//! Direct writes to elements a component already holds, for the per-tick updates
//! that would otherwise cost a reactive node per text or attribute.

/// Sets the text of `element`, which holds one text (as Leptos renders `{text}`, with
/// at most an empty marker comment after it). Its text node is rewritten in place:
/// `textContent` would replace the node, and the browser rebuild its layout object.
pub fn set_text(element: &web_sys::Element, text: &str) {
    match element.first_child() {
        Some(node) if node.node_type() == web_sys::Node::TEXT_NODE => {
            node.set_node_value(Some(text))
        }
        _ => element.set_text_content(Some(text)),
    }
}

/// Sets an attribute; the browser refuses only invalid names, which callers do not use.
pub fn set_attribute(element: &web_sys::Element, name: &str, value: &str) {
    let _ = element.set_attribute(name, value);
}

/// Adds or removes a boolean attribute such as `hidden`.
pub fn toggle_attribute(element: &web_sys::Element, name: &str, on: bool) {
    let _ = element.toggle_attribute_with_force(name, on);
}
