/** Strings of the me page(s). zh must have every key of en (the type checks it). */
export const en = {
  title: 'My keys',
  usage: {
    title: 'My usage',
    description: 'Requests, tokens and cost of your own keys.',
    allKeys: 'All my keys',
    key: 'Key',
    requests: 'Recent requests',
  },
};

export const zh: typeof en = {
  title: '我的密钥',
  usage: {
    title: '我的用量',
    description: '你自己的密钥的请求数、Token 和费用。',
    allKeys: '我的全部密钥',
    key: '密钥',
    requests: '最近的请求',
  },
};
