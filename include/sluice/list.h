/*
 * sluice: intrusive circular doubly-linked list. The head is a sentinel
 * link; entries embed a struct sl_list and are recovered with
 * sl_list_entry().
 */
#ifndef SLUICE_LIST_H
#define SLUICE_LIST_H

#include <stddef.h>

/** A list head or a link embedded in an entry. */
struct sl_list {
	/** Next link (the head itself when at the end). */
	struct sl_list *next;
	/** Previous link (the head itself when at the start). */
	struct sl_list *prev;
};

/** Make `l` an empty list (or an unlinked link). */
static inline void
sl_list_init(struct sl_list *l)
{
	l->next = l;
	l->prev = l;
}

/** Whether the list is empty (or the link unlinked). */
static inline int
sl_list_empty(const struct sl_list *l)
{
	return l->next == l;
}

/** Insert `item` at the end of `head`. */
static inline void
sl_list_add_tail(struct sl_list *head, struct sl_list *item)
{
	item->prev = head->prev;
	item->next = head;
	head->prev->next = item;
	head->prev = item;
}

/** Unlink `item` and leave it as an empty link. */
static inline void
sl_list_del(struct sl_list *item)
{
	item->prev->next = item->next;
	item->next->prev = item->prev;
	sl_list_init(item);
}

/** The first link, or NULL when the list is empty. */
static inline struct sl_list *
sl_list_first(const struct sl_list *head)
{
	return head->next == head ? NULL : head->next;
}

/** Move every link of `from` to the end of `to`; `from` becomes empty. */
static inline void
sl_list_splice_tail(struct sl_list *to, struct sl_list *from)
{
	if (sl_list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	sl_list_init(from);
}

/** The entry of type `type` whose member `member` is the link `ptr`. */
#define sl_list_entry(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

/** Iterate over the links of `head`; `it` may not be removed. */
#define sl_list_foreach(it, head) \
	for ((it) = (head)->next; (it) != (head); (it) = (it)->next)

#endif /* SLUICE_LIST_H */
