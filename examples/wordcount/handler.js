'use strict';

// wordcount: counts the lines, words and bytes of the request body, as `wc` does.
module.exports = async (body, context) => {
  const text = context.rawBody.toString('utf8');
  return {
    lines: (text.match(/\n/g) ?? []).length,
    words: text.split(/\s+/).filter(Boolean).length,
    bytes: context.rawBody.length,
  };
};
