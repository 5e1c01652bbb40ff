// Leaflet takes a tooltip's, a popup's or a divIcon's content as a string of HTML or as an
// element. Text from users (a hotspot's name, a household's address) goes in as an element
// built here, whose textContent is the text: nothing in it is ever parsed as markup.

/** A `tag` element holding `text` as text, with `className` when given. */
export function textElement(tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined && text !== null) node.textContent = text
  return node
}
